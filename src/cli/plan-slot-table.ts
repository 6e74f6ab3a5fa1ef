/** The slot table of `pgbackup plan`: every slot of every line, and what occupies it. */
import { BACKUP_TYPES } from '../api/index.js';
import type { PlannedBackup, RetentionPlan } from '../retention/index.js';
import { renderColumns } from './text-columns.js';

const COLUMNS = ['TYPE', 'LINE', 'SLOT', 'LABEL', 'DATE'] as const;

function slotRows(plan: RetentionPlan, retained: readonly PlannedBackup[]): string[][] {
  return BACKUP_TYPES.flatMap((type) =>
    plan[type].flatMap(({ line, keep }) =>
      Array.from({ length: keep }, (_, slot) => {
        const occupant = retained.find(
          (backup) => backup.type === type && backup.line === line && backup.slot === slot,
        );
        return [type, line, String(slot), occupant?.label ?? '-', occupant?.date ?? '(empty)'];
      }),
    ),
  );
}

/**
 * Renders the slots of every enabled line with their occupant (label and date) at the end of
 * the preview, in columns as `kubectl get` prints them; an empty slot shows `(empty)`.
 */
export function renderSlotTable(plan: RetentionPlan, retained: readonly PlannedBackup[]): string {
  const rows = [[...COLUMNS], ...slotRows(plan, retained)];
  return renderColumns(rows);
}
