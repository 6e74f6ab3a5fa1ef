/** The `--output json` form of `pgbackup plan`. */
import type { PlannedBackup, PlanSimulation } from '../retention/index.js';

function entry(backup: PlannedBackup): string {
  const { date, type, line, slot, label } = backup;
  const fields = Object.entries({ date, type, line, slot, label }).map(
    ([key, value]) => `${JSON.stringify(key)}: ${JSON.stringify(value)}`,
  );
  return `{ ${fields.join(', ')} }`;
}

function list(backups: readonly PlannedBackup[]): string {
  return backups.length === 0 ? '[]' : `[\n    ${backups.map(entry).join(',\n    ')}\n  ]`;
}

/**
 * Renders the preview as one JSON object, `{"runs": [...], "retained": [...]}`, whose entries
 * are `{"date","type","line","slot","label"}`, one entry a line so that diffs stay readable (the
 * layout Biome gives such a file).
 */
export function renderPlanJson(simulation: PlanSimulation): string {
  return `{\n  "runs": ${list(simulation.runs)},\n  "retained": ${list(simulation.retained)}\n}\n`;
}
