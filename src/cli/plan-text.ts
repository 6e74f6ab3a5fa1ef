/** The default, human form of `pgbackup plan`. */
import { BACKUP_TYPES, type BackupPolicy, BINARY_LINES, type LineName } from '../api/index.js';
import {
  describeFireDays,
  fireTimeNotes,
  formatLocalDate,
  type LocalDate,
  type PlanSimulation,
  type RetentionPlan,
} from '../retention/index.js';
import { LINE_MARKERS, renderPlanCalendar } from './plan-calendar.js';
import { renderSlotTable } from './plan-slot-table.js';

/** The inputs of {@link renderPlanText}. */
export interface PlanTextInput {
  readonly policy: BackupPolicy;
  readonly plan: RetentionPlan;
  readonly simulation: PlanSimulation;
  readonly from: LocalDate;
  readonly to: LocalDate;
}

function legend(plan: RetentionPlan): string[] {
  const width = Math.max(...BINARY_LINES.map((line) => line.length));
  return BINARY_LINES.flatMap((line: LineName) => {
    const kinds = BACKUP_TYPES.flatMap((type) =>
      plan[type].filter((entry) => entry.line === line).map(({ keep }) => `${type} (keep ${keep})`),
    );
    if (kinds.length === 0) {
      return [];
    }
    const days = describeFireDays(line, plan.schedule.weekday);
    return [`  ${LINE_MARKERS[line]}  ${line.padEnd(width)}  ${days}: ${kinds.join(', ')}`];
  });
}

function header(input: PlanTextInput): string[] {
  const { policy, plan, from, to } = input;
  const name = policy.metadata.name ?? '';
  const subject = name === '' ? 'BackupPolicy' : `BackupPolicy "${name}"`;
  const { time } = policy.spec.schedule;
  const range = `${formatLocalDate(from)} to ${formatLocalDate(to)}`;
  const lines = [`${subject}: runs from ${range}, at ${time} ${policy.spec.timeZone}`];
  if (policy.spec.suspend) {
    lines.push('spec.suspend is true: nothing fires until it is false. The plan when it runs:');
  }
  const entries = legend(plan);
  return [
    ...lines,
    '',
    ...(entries.length === 0 ? ['  no line is enabled: nothing fires'] : entries),
  ];
}

/**
 * Renders the preview for people: a legend of the enabled lines, a calendar per month marking
 * which lines fire on which day, notes on days daylight saving time shifts, and the slot table
 * as it stands at the end of `to` if every run succeeds.
 */
export function renderPlanText(input: PlanTextInput): string {
  const { plan, simulation, from, to } = input;
  const notes = fireTimeNotes({ schedule: plan.schedule, from, to });
  const sections = [
    header(input).join('\n'),
    renderPlanCalendar({ runs: simulation.runs, from, to }).trimEnd(),
    ...(notes.length === 0 ? [] : [notes.join('\n')]),
    `Slots at the end of ${formatLocalDate(to)}, if every run succeeds:\n${renderSlotTable(plan, simulation.retained).trimEnd()}`,
  ];
  return `${sections.join('\n\n')}\n`;
}
