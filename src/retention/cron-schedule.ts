/**
 * The CronJob that triggers a line: a standard five-field cron schedule and the CronJob's
 * `timeZone`, together firing on every fire day of the line (and possibly on more days, which
 * the runner's gate skips; see `resolveRun`).
 */
import { fireInstantOf } from './fire-instant.js';
import { CRON_WEEKDAY, isFireDay, type LineCalendar } from './line-calendar.js';
import { floorMod, MS_PER_DAY } from './local-date.js';
import { instantsOfWallTime, wallTimeAt, wallTimeOf } from './time-zone.js';
import type { FireSchedule, LineName } from './types.js';
import { gapsOf } from './zone-gaps.js';

/** The `schedule` and `timeZone` fields of a CronJob's spec. */
export interface CronSchedule {
  readonly schedule: string;
  readonly timeZone: string;
}

/** The inputs of {@link cronScheduleOf}. */
export interface CronScheduleInput {
  readonly schedule: FireSchedule;
  readonly line: LineName;
}

/**
 * The CronJob schedule of a line. Kubernetes cron cannot say "last day of the month", so the
 * month-end lines fire on the 28th–31st and the runner skips the other days:
 * daily `M H * * *`, weekly `M H * * DOW`, monthly `M H 28-31 * *`, quarterly
 * `M H 28-31 3,6,9,12 *`, yearly `M H 31 12 *`.
 *
 * When the time of day is missing on some fire day of the line between 1970 and 2100 (clocks
 * spring forward over it), the hour field also lists the hour the line fires at on that day
 * instead (`30 2,3 * * *` in Europe/Berlin at 02:30), because the CronJob controller never
 * fires at a wall time that does not exist; see `fireInstantOf`.
 */
export function cronScheduleOf(input: CronScheduleInput): CronSchedule {
  const { schedule, line } = input;
  const calendar = { line, weekday: schedule.weekday };
  const timeOfDay = `${schedule.time.minute} ${cronHoursOf(input).join(',')}`;
  return { schedule: `${timeOfDay} ${dayFields(calendar)}`, timeZone: schedule.timeZone };
}

/**
 * The hours of the day (ascending) the line's CronJob fires at: the schedule's hour, and the
 * hours the line fires at instead on days its time of day is missing (see {@link cronScheduleOf}).
 */
export function cronHoursOf(input: CronScheduleInput): number[] {
  const { schedule, line } = input;
  const calendar = { line, weekday: schedule.weekday };
  const hours = [schedule.time.hour, ...substituteHours(schedule, calendar)];
  return [...new Set(hours)].sort((left, right) => left - right);
}

function dayFields(calendar: LineCalendar): string {
  switch (calendar.line) {
    case 'daily':
      return '* * *';
    case 'weekly':
      return `* * ${CRON_WEEKDAY[calendar.weekday]}`;
    case 'monthly':
      return '28-31 * *';
    case 'quarterly':
      return '28-31 3,6,9,12 *';
    case 'yearly':
      return '31 12 *';
  }
}

/** The hours the line fires at on the fire days whose time of day is missing. */
function substituteHours(schedule: FireSchedule, calendar: LineCalendar): number[] {
  const minuteOfDay = schedule.time.hour * 60 + schedule.time.minute;
  const hours: number[] = [];
  for (const gap of gapsOf(schedule.timeZone)) {
    const lastDay = Math.floor((gap.endWallMs - 1) / MS_PER_DAY);
    for (let day = Math.floor(gap.startWallMs / MS_PER_DAY); day <= lastDay; day += 1) {
      const wall = wallTimeOf(day, minuteOfDay);
      const missing = instantsOfWallTime(schedule.timeZone, wall).length === 0;
      const fireMs = missing && isFireDay(calendar, day) ? fireInstantOf(schedule, day) : undefined;
      if (fireMs !== undefined) {
        const fireWall = wallTimeAt(schedule.timeZone, fireMs);
        hours.push(Math.floor(floorMod(fireWall, MS_PER_DAY) / 3_600_000));
      }
    }
  }
  return hours;
}
