/** Notes for people on the days daylight saving time moves or doubles the time of day. */
import { formatLocalMinute } from './describe.js';
import { fireInstantOf } from './fire-instant.js';
import { epochDayOf, formatLocalDate, type LocalDate, localDateOf } from './local-date.js';
import { instantsOfWallTime, wallTimeOf } from './time-zone.js';
import type { FireSchedule } from './types.js';

/** The inputs of {@link fireTimeNotes}: a schedule and an inclusive range of local dates. */
export interface FireTimeNotesInput {
  readonly schedule: FireSchedule;
  readonly from: LocalDate;
  readonly to: LocalDate;
}

function formatTime({ hour, minute }: FireSchedule['time']): string {
  return `${String(hour).padStart(2, '0')}:${String(minute).padStart(2, '0')}`;
}

function noteOn(schedule: FireSchedule, epochDay: number): string | undefined {
  const { timeZone, time } = schedule;
  const wall = wallTimeOf(epochDay, time.hour * 60 + time.minute);
  const instants = instantsOfWallTime(timeZone, wall);
  const date = formatLocalDate(localDateOf(epochDay));
  if (instants.length === 2) {
    return `${date}: ${formatTime(time)} happens twice in ${timeZone} (clocks go back); lines fire at the first`;
  }
  if (instants.length > 0) {
    return undefined;
  }
  const fireMs = fireInstantOf(schedule, epochDay);
  return fireMs === undefined
    ? `${date}: this date does not exist in ${timeZone}; nothing fires`
    : `${date}: ${formatTime(time)} does not exist in ${timeZone} (clocks go forward); lines fire at ${formatLocalMinute(timeZone, fireMs).slice(11)}`;
}

/**
 * One line for each date in the range on which the schedule's time of day is missing or
 * doubled in its time zone, saying when the lines fire that day (see `fireInstantOf`).
 */
export function fireTimeNotes(input: FireTimeNotesInput): string[] {
  const notes: string[] = [];
  const last = epochDayOf(input.to);
  for (let epochDay = epochDayOf(input.from); epochDay <= last; epochDay += 1) {
    const note = noteOn(input.schedule, epochDay);
    if (note !== undefined) {
      notes.push(note);
    }
  }
  return notes;
}
