/** A schedule on time for runs started now, as the e2e test and the demo start them. */
import { WEEKDAYS } from '../../src/api/index.js';

/** How far before "now" the schedule puts the fire time of today's runs. */
const FIRE_LEAD_MS = 2 * 60_000;

/**
 * A `spec.schedule` whose daily and weekly lines fired two minutes before `nowMs` in the
 * policy's time zone. The runner decides its period from the latest fire instant at or before
 * its trigger (a Job made by hand: its creation) and fails a run triggered later than
 * `lateness` (6h by default), so a run started by hand is on time only when the policy's time
 * of day (and, for weekly lines, weekday) has just passed.
 */
export function onTimeSchedule(nowMs: number, timeZone = 'UTC'): { time: string; weekday: string } {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone,
    weekday: 'long',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).formatToParts(new Date(nowMs - FIRE_LEAD_MS));
  const part = (type: string) => parts.find((found) => found.type === type)?.value ?? '';
  const weekday = WEEKDAYS.find((day) => day === part('weekday').toLowerCase());
  if (weekday === undefined) throw new Error(`no weekday in ${JSON.stringify(parts)}`);
  return { time: `${part('hour')}:${part('minute')}`, weekday };
}
