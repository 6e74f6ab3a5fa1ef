/**
 * The plan preview: which runs fire over a range of dates, and which backups exist at its end
 * if every run succeeds. It walks the same path as the runner: `resolveRun` at each fire
 * instant, then `planPrune` after each commit.
 */
import { BACKUP_TYPES } from '../api/index.js';
import { fireInstantOf } from './fire-instant.js';
import { fireDayOfPeriod, isFireDay, type LineCalendar, labelOf } from './line-calendar.js';
import { epochDayOf, formatLocalDate, type LocalDate, localDateOf } from './local-date.js';
import { type LineBackup, planPrune } from './plan-prune.js';
import { resolveRun } from './resolve-run.js';
import type { BackupType, LineName, RetentionLine, RetentionPlan } from './types.js';

/** A backup of the preview: a run that fires, or a backup retained at the end. */
export interface PlannedBackup {
  /** The local date of its fire, `YYYY-MM-DD`. */
  readonly date: string;
  readonly type: BackupType;
  readonly line: LineName;
  readonly period: number;
  /** The 0-based slot it fills. */
  readonly slot: number;
  readonly label: string;
}

/** The preview of a plan over a range of dates. */
export interface PlanSimulation {
  /** Every run that fires in the range, by date, then kind, then line. */
  readonly runs: readonly PlannedBackup[];
  /** The backups that exist at the end of the last date, by kind, line, then date. */
  readonly retained: readonly PlannedBackup[];
}

/** The inputs of {@link simulatePlan}: a plan and an inclusive range of local dates. */
export interface SimulatePlanInput {
  readonly plan: RetentionPlan;
  readonly from: LocalDate;
  readonly to: LocalDate;
}

interface Track {
  readonly type: BackupType;
  readonly line: RetentionLine;
  catalog: LineBackup[];
}

/**
 * Previews a plan from `from` to `to` (inclusive), starting with no backups and assuming every
 * run succeeds as soon as it fires.
 */
export function simulatePlan(input: SimulatePlanInput): PlanSimulation {
  const { plan } = input;
  const tracks: Track[] = BACKUP_TYPES.flatMap((type) =>
    plan[type].map((line) => ({ type, line, catalog: [] })),
  );
  const runs: PlannedBackup[] = [];
  const last = epochDayOf(input.to);
  for (let epochDay = epochDayOf(input.from); epochDay <= last; epochDay += 1) {
    for (const track of tracks) {
      const run = runOnDay({ plan, track, epochDay });
      if (run !== undefined) {
        runs.push(run);
      }
    }
  }
  const retained = tracks.flatMap((track) =>
    track.catalog
      .map((backup) => plannedBackup({ plan, track, backup }))
      .sort((left, right) => left.period - right.period),
  );
  return { runs, retained };
}

interface DayOfTrack {
  readonly plan: RetentionPlan;
  readonly track: Track;
  readonly epochDay: number;
}

function runOnDay({ plan, track, epochDay }: DayOfTrack): PlannedBackup | undefined {
  const { schedule } = plan;
  if (!isFireDay({ line: track.line.line, weekday: schedule.weekday }, epochDay)) {
    return undefined;
  }
  const fireMs = fireInstantOf(schedule, epochDay);
  const decision =
    fireMs === undefined
      ? undefined
      : resolveRun({ schedule, line: track.line, triggeredAtMs: fireMs });
  if (fireMs === undefined || decision?.ok !== true) {
    return undefined;
  }
  const committed: LineBackup = {
    id: `${track.type}/${track.line.line}/${decision.period}`,
    line: track.line.line,
    period: decision.period,
    slot: decision.slot,
    committedAtMs: fireMs,
  };
  const deleted = new Set(
    planPrune({ keep: track.line.keep, existing: track.catalog, committed }).map(({ id }) => id),
  );
  track.catalog = [...track.catalog.filter(({ id }) => !deleted.has(id)), committed];
  return plannedBackup({ plan, track, backup: committed });
}

interface BackupOfTrack {
  readonly plan: RetentionPlan;
  readonly track: Track;
  readonly backup: LineBackup;
}

function plannedBackup({ plan, track, backup }: BackupOfTrack): PlannedBackup {
  const calendar: LineCalendar = { line: track.line.line, weekday: plan.schedule.weekday };
  const { period, slot } = backup;
  return {
    date: formatLocalDate(localDateOf(fireDayOfPeriod(calendar, period))),
    type: track.type,
    line: track.line.line,
    period,
    slot,
    label: labelOf({ ...calendar, period, keep: track.line.keep }),
  };
}
