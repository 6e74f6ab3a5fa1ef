/**
 * The period of a run: which fire of its line the run's trigger belongs to, or why it must do
 * nothing. This is the gate the runner passes before taking a backup. The trigger time is the
 * instant the run was asked for (the CronJob's scheduled time, a hand-made Job's creation time,
 * file mode's `--at` or start), never the instant the run got its turn: time spent queued
 * behind another run of the policy neither moves a run to another period nor makes it late.
 */
import { cronHoursOf } from './cron-schedule.js';
import { describeFireDays, formatDurationMs, formatLocalMinute } from './describe.js';
import { fireInstantOf } from './fire-instant.js';
import {
  type LineCalendar,
  labelOf,
  latestFireDayOnOrBefore,
  periodOf,
  slotOf,
} from './line-calendar.js';
import {
  floorMod,
  formatLocalDate,
  type LocalDate,
  localDateOf,
  MS_PER_DAY,
} from './local-date.js';
import { epochDayAt, wallTimeAt } from './time-zone.js';
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

/** A trigger's own verdict, before anything is known of the catalog. */
export type TriggerDecision =
  | RunAccepted
  | (RunSkipped & { readonly reason: Exclude<SkipReason, 'PeriodTaken'> });

/** The inputs of {@link decideTrigger}. */
export interface TriggerInput {
  readonly schedule: RetentionSchedule;
  readonly line: RetentionLine;
  /**
   * When the run was triggered: the CronJob's scheduled time, a hand-made Job's creation
   * time, or file mode's `--at` or start; not when it got its turn after waiting.
   */
  readonly triggeredAtMs: number;
}

/** The inputs of {@link resolveRun}. */
export interface ResolveRunInput extends TriggerInput {
  /** Periods of the line that already have a committed backup; omitted, none are. */
  readonly takenPeriods?: readonly number[];
}

/**
 * Decides, from the trigger time alone, the period of a run of a line: the latest fire
 * instant of the line at or before the trigger. Pure and cheap, so the runner asks it before
 * any I/O (no Backup object, connection, lock or bucket listing). Refused:
 * - `NotFireDay` when the trigger falls on a day that is not a fire day of the line, more than
 *   a day after the latest fire (a CronJob trigger on the 28th–30th that is not the last day);
 * - `TooLate` when the fire instant is more than `lateness` before the trigger, unless the
 *   trigger is one of the CronJob's own extra triggers of that fire day (the second of a
 *   doubled time of day, or the hour a line fires at on days its time of day is missing; see
 *   `fireInstantOf`), which the catalog then finds taken.
 */
export function decideTrigger(input: TriggerInput): TriggerDecision {
  const { schedule, line, triggeredAtMs } = input;
  const calendar = { line: line.line, weekday: schedule.weekday };
  const fire = latestFireAtOrBefore({ schedule, calendar }, triggeredAtMs);
  const late =
    fire === undefined || triggeredAtMs - fire.instantMs > schedule.latenessSeconds * 1000;
  if (late) {
    const misplaced = skipMisplacedRun(input, fire);
    if (misplaced !== undefined) return misplaced;
  }
  if (fire === undefined || (late && !isCronTickOfFireDay(input, fire))) {
    return skipLateRun(input, fire);
  }
  const period = periodOf(calendar, fire.epochDay);
  return {
    ok: true,
    period,
    slot: slotOf(period, line.keep),
    label: labelOf({ ...calendar, period, keep: line.keep }),
    fireDate: localDateOf(fire.epochDay),
    fireInstantMs: fire.instantMs,
  };
}

/**
 * Decides a run of a line triggered at `triggeredAtMs` ({@link decideTrigger}), then, as the
 * runner does holding the lock, skips it as `PeriodTaken` when that period already has a
 * committed backup (the second trigger of a doubled time of day, a retried Job).
 */
export function resolveRun(input: ResolveRunInput): RunDecision {
  const decision = decideTrigger(input);
  if (!decision.ok) return decision;
  return periodTakenSkip(input.line, decision, input.takenPeriods ?? []) ?? decision;
}

/** The `PeriodTaken` skip of an accepted run whose period is among `takenPeriods`. */
export function periodTakenSkip(
  line: RetentionLine,
  accepted: RunAccepted,
  takenPeriods: readonly number[],
): RunSkipped | undefined {
  if (!takenPeriods.includes(accepted.period)) return undefined;
  return {
    ok: false,
    reason: 'PeriodTaken',
    message: `the ${line.line} backup for ${formatLocalDate(accepted.fireDate)} is already committed; nothing to do`,
  };
}

/**
 * Whether the trigger is an instant the line's CronJob fires at on the fire's own date (its
 * minute, at one of its hours), other than the fire instant: a trigger the calendar expects,
 * which belongs to that fire however long after it comes.
 */
function isCronTickOfFireDay(input: TriggerInput, fire: Fire): boolean {
  const { schedule, line, triggeredAtMs } = input;
  const wall = wallTimeAt(schedule.timeZone, triggeredAtMs);
  if (Math.floor(wall / MS_PER_DAY) !== fire.epochDay) return false;
  const msOfDay = floorMod(wall, MS_PER_DAY);
  if (msOfDay % 3_600_000 !== schedule.time.minute * 60_000) return false;
  const hour = Math.floor(msOfDay / 3_600_000);
  // The schedule's own hour needs no look at the zone's gaps, which costs more.
  return hour === schedule.time.hour || cronHoursOf({ schedule, line: line.line }).includes(hour);
}

function skipMisplacedRun(
  input: TriggerInput,
  fire: Fire | undefined,
): (RunSkipped & { readonly reason: 'NotFireDay' }) | undefined {
  const { schedule, line, triggeredAtMs } = input;
  const calendar = { line: line.line, weekday: schedule.weekday };
  const triggerDay = epochDayAt(schedule.timeZone, triggeredAtMs);
  // A trigger just past midnight is late, not misplaced: only a trigger on a day that is not
  // a fire day, more than a day after the last fire, is a CronJob trigger on a day the line skips.
  const onFireDay = latestFireDayOnOrBefore(calendar, triggerDay) === triggerDay;
  if (onFireDay || (fire !== undefined && fire.epochDay >= triggerDay - 1)) {
    return undefined;
  }
  const today = formatLocalDate(localDateOf(triggerDay));
  return {
    ok: false,
    reason: 'NotFireDay',
    message: `${today} (${schedule.timeZone}) is not a fire day of the ${line.line} line, which fires on ${describeFireDays(line.line, schedule.weekday)}; nothing to do`,
  };
}

function skipLateRun(
  input: TriggerInput,
  fire: Fire | undefined,
): RunSkipped & { readonly reason: 'TooLate' } {
  const { schedule, line, triggeredAtMs } = input;
  const lateness = formatDurationMs(schedule.latenessSeconds * 1000);
  const due =
    fire === undefined
      ? 'has no fire time in reach'
      : `was due at ${formatLocalMinute(schedule.timeZone, fire.instantMs)} ${schedule.timeZone} and was triggered ${formatDurationMs(triggeredAtMs - fire.instantMs)} later`;
  return {
    ok: false,
    reason: 'TooLate',
    message: `the ${line.line} run ${due}, more than the lateness of ${lateness} (spec.schedule.lateness); it takes no backup, so that none fills the wrong slot`,
  };
}
