/**
 * The instant a fire day fires at: the schedule's time of day on that local date, with a rule
 * for the days daylight saving time makes that time of day missing or doubled.
 */
import { instantsOfWallTime, wallTimeOf } from './time-zone.js';
import type { FireSchedule } from './types.js';

/**
 * The fire instant (milliseconds since the epoch) of a local date at the schedule's time of
 * day `HH:MM` in its time zone.
 *
 * Doubled time (clocks fall back over it): the first occurrence. Missing time (clocks spring
 * forward over it): the first hour of that date, after `HH`, whose `:MM` exists, so 02:30
 * becomes 03:30 where clocks jump from 02:00 to 03:00. Why: the CronJob controller (robfig/cron)
 * fires at every instant whose wall time matches the cron expression, so it fires twice at a
 * doubled time and never at a missing one. The earlier occurrence is the first trigger of the
 * day; the later one finds its period already taken. For a missing time, the line's CronJob
 * lists that later hour too (see `cronScheduleOf`), so the CronJob fires exactly at this
 * instant on that day; on other days the extra trigger finds its period taken.
 *
 * @returns the instant, or `undefined` when no hour from `HH` on exists on that date (a
 *   date a zone skipped entirely, such as 2011-12-30 in Pacific/Apia): such a day fires nothing.
 */
export function fireInstantOf(schedule: FireSchedule, epochDay: number): number | undefined {
  for (let hour = schedule.time.hour; hour < 24; hour += 1) {
    const wall = wallTimeOf(epochDay, hour * 60 + schedule.time.minute);
    const [first] = instantsOfWallTime(schedule.timeZone, wall);
    if (first !== undefined) {
      return first;
    }
  }
  return undefined;
}
