/**
 * The slot table of a policy's status, derived from its `Backup` objects: for every enabled
 * type, line and slot, the newest completed backup in it, and whether a later run for that
 * slot failed (stale).
 */
import type { Backup, BackupType, SlotStatus } from '../api/index.js';
import {
  epochDayAt,
  labelOf,
  latestFireDayOnOrBefore,
  periodOf,
  type RetentionLine,
  type RetentionPlan,
  slotOf,
} from '../retention/index.js';

/** The inputs of {@link renderSlotTable}. */
export interface SlotTableInput {
  readonly plan: RetentionPlan;
  /** The policy's Backups (any phase); on-demand ones are ignored. */
  readonly backups: readonly Backup[];
  /** Now, in milliseconds since the epoch: labels empty slots by their latest period. */
  readonly nowMs: number;
}

function timeOf(backup: Backup): string {
  return backup.status?.completedAt ?? backup.status?.startedAt ?? '';
}

function newestFirst(left: Backup, right: Backup): number {
  const byTime = timeOf(right).localeCompare(timeOf(left));
  return byTime !== 0
    ? byTime
    : (right.metadata.name ?? '').localeCompare(left.metadata.name ?? '');
}

/** The label of an empty slot: that of the latest period, up to now, that maps to it. */
function emptySlotLabel(input: SlotTableInput, line: RetentionLine, slot: number): string {
  const { schedule } = input.plan;
  const calendar = { line: line.line, weekday: schedule.weekday };
  const today = epochDayAt(schedule.timeZone, input.nowMs);
  const current = periodOf(calendar, latestFireDayOnOrBefore(calendar, today));
  const period = current - slotOf(current - slot, line.keep);
  return labelOf({ ...calendar, period, keep: line.keep });
}

function slotRow(input: SlotTableInput, type: BackupType, line: RetentionLine, slot: number) {
  const runs = input.backups
    .filter((backup) => backup.spec.type === type && backup.spec.line === line.line)
    .filter((backup) => backup.status?.slot === slot)
    .sort(newestFirst);
  const occupant = runs.find((backup) => backup.status?.phase === 'Completed');
  const latestFinished = runs.find(
    (backup) => backup.status?.phase === 'Completed' || backup.status?.phase === 'Failed',
  );
  const row: SlotStatus = {
    type,
    line: line.line,
    slot,
    label: occupant?.status?.slotLabel ?? emptySlotLabel(input, line, slot),
    stale: occupant !== undefined && latestFinished?.status?.phase === 'Failed',
  };
  if (occupant === undefined) return row;
  const time = timeOf(occupant);
  const sizeBytes = occupant.status?.sizeBytes;
  return {
    ...row,
    backup: occupant.metadata.name ?? '',
    ...(time !== '' ? { time } : {}),
    ...(sizeBytes !== undefined ? { sizeBytes } : {}),
  };
}

/** Every slot of every enabled line, binary first, in line and slot order. */
export function renderSlotTable(input: SlotTableInput): SlotStatus[] {
  const kinds: [BackupType, readonly RetentionLine[]][] = [
    ['binary', input.plan.binary],
    ['logical', input.plan.logical],
  ];
  return kinds.flatMap(([type, lines]) =>
    lines.flatMap((line) =>
      Array.from({ length: line.keep }, (_, slot) => slotRow(input, type, line, slot)),
    ),
  );
}
