/**
 * The period of a run: which fire of its line a run that started at a given instant belongs
 * to, or why it must do nothing. This is the gate the runner passes before taking a backup.
 */
import { describeFireDays, formatDurationMs, formatLocalMinute } from './describe.js';
import { fireInstantOf } from './fire-instant.js';
import {
  type LineCalendar,
  labelOf,
  latestFireDayOnOrBefore,
  periodOf,
  slotOf,
} from './line-calendar.js';
import { formatLocalDate, type LocalDate, localDateOf } from './local-date.js';
import { epochDayAt } from './time-zone.js';
import type { FireSchedule, RetentionLine, RetentionSchedule } from './types.js';

/** A fire of a line: its local date and the instant it fires at. */
export interface Fire {
  readonly epochDay: number;
  readonly instantMs: number;
}

/** A schedule and a line: what the latest fire before an instant depends on. */
export interface LineSchedule {
  readonly schedule: FireSchedule;
  readonly calendar: LineCalendar;
}

// Enough to step back over the few dates a zone skipped entirely (whose fire is undefined).
const MAX_FIRES_BACK = 8;

/**
 * The latest fire of the line at or before an instant, by the calendar and not by the wall
 * clock: a run started just after midnight belongs to the day before if today's fire instant
 * is still to come.
 */
export function latestFireAtOrBefore(input: LineSchedule, instantMs: number): Fire | undefined {
  const { schedule, calendar } = input;
  let epochDay = latestFireDayOnOrBefore(calendar, epochDayAt(schedule.timeZone, instantMs));
  for (let step = 0; step < MAX_FIRES_BACK; step += 1) {
    const fireMs = fireInstantOf(schedule, epochDay);
    if (fireMs !== undefined && fireMs <= instantMs) {
      return { epochDay, instantMs: fireMs };
    }
    epochDay = latestFireDayOnOrBefore(calendar, epochDay - 1);
  }
  return undefined;
}

/** Why a run does nothing; PascalCase, as the reasons of Kubernetes conditions and Events. */
export type SkipReason = 'NotFireDay' | 'TooLate' | 'PeriodTaken';

/** A run that takes the backup of a period. */
export interface RunAccepted {
  readonly ok: true;
  readonly period: number;
  /** The 0-based slot the backup fills. */
  readonly slot: number;
  readonly label: string;
  /** The local date of the fire the run belongs to. */
  readonly fireDate: LocalDate;
  readonly fireInstantMs: number;
}

/** A run that must do nothing, and a message for the person reading the run's log. */
export interface RunSkipped {
  readonly ok: false;
  readonly reason: SkipReason;
  readonly message: string;
}

/** What a run should do: take the backup of a period, or skip. */
export type RunDecision = RunAccepted | RunSkipped;

/** The inputs of {@link resolveRun}. */
export interface ResolveRunInput {
  readonly schedule: RetentionSchedule;
  readonly line: RetentionLine;
  /** When the run started (after waiting for its turn, if it had to). */
  readonly startedAtMs: number;
  /** Periods of the line that already have a committed backup; omitted, none are. */
  readonly takenPeriods?: readonly number[];
}

/**
 * Decides the period of a run of a line started at `startedAtMs`: the latest fire instant of
 * the line at or before the start. The run is skipped, in this order of precedence:
 * - `NotFireDay` when it starts on a day that is not a fire day of the line, more than a day
 *   after the latest fire (a CronJob trigger on the 28th–30th that is not the last day);
 * - `PeriodTaken` when that period already has a committed backup (the second trigger of a
 *   doubled time of day, or the extra trigger of a line whose time of day is sometimes missing;
 *   see `fireInstantOf`), however late;
 * - `TooLate` when the fire instant is more than `lateness` before the start.
 */
export function resolveRun(input: ResolveRunInput): RunDecision {
  const { schedule, line, startedAtMs } = input;
  const calendar = { line: line.line, weekday: schedule.weekday };
  const fire = latestFireAtOrBefore({ schedule, calendar }, startedAtMs);
  const late = fire === undefined || startedAtMs - fire.instantMs > schedule.latenessSeconds * 1000;
  const misplaced = late ? skipMisplacedRun(input, fire) : undefined;
  if (misplaced !== undefined) {
    return misplaced;
  }
  if (fire === undefined) {
    return skipLateRun(input, fire);
  }
  const period = periodOf(calendar, fire.epochDay);
  const fireDate = localDateOf(fire.epochDay);
  if (input.takenPeriods?.includes(period) === true) {
    return {
      ok: false,
      reason: 'PeriodTaken',
      message: `the ${line.line} backup for ${formatLocalDate(fireDate)} is already committed; nothing to do`,
    };
  }
  if (late) {
    return skipLateRun(input, fire);
  }
  return {
    ok: true,
    period,
    slot: slotOf(period, line.keep),
    label: labelOf({ ...calendar, period, keep: line.keep }),
    fireDate,
    fireInstantMs: fire.instantMs,
  };
}

function skipMisplacedRun(input: ResolveRunInput, fire: Fire | undefined): RunSkipped | undefined {
  const { schedule, line, startedAtMs } = input;
  const calendar = { line: line.line, weekday: schedule.weekday };
  const startDay = epochDayAt(schedule.timeZone, startedAtMs);
  // A run delayed past midnight is late, not misplaced: only a start on a day that is not a
  // fire day, more than a day after the last fire, is a CronJob trigger on a day the line skips.
  const startsOnFireDay = latestFireDayOnOrBefore(calendar, startDay) === startDay;
  if (startsOnFireDay || (fire !== undefined && fire.epochDay >= startDay - 1)) {
    return undefined;
  }
  const today = formatLocalDate(localDateOf(startDay));
  return {
    ok: false,
    reason: 'NotFireDay',
    message: `${today} (${schedule.timeZone}) is not a fire day of the ${line.line} line, which fires on ${describeFireDays(line.line, schedule.weekday)}; nothing to do`,
  };
}

function skipLateRun(input: ResolveRunInput, fire: Fire | undefined): RunSkipped {
  const { schedule, line, startedAtMs } = input;
  const lateness = formatDurationMs(schedule.latenessSeconds * 1000);
  const due =
    fire === undefined
      ? 'has no fire time in reach'
      : `was due at ${formatLocalMinute(schedule.timeZone, fire.instantMs)} ${schedule.timeZone} and started ${formatDurationMs(startedAtMs - fire.instantMs)} later`;
  return {
    ok: false,
    reason: 'TooLate',
    message: `the ${line.line} run ${due}, more than the lateness of ${lateness} (spec.schedule.lateness); skipped so that it does not fill the wrong slot. Create an on-demand Backup to take one now`,
  };
}
