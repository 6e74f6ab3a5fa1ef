/** Wording shared by the messages of the retention engine. */
import { floorMod, formatLocalDate, localDateOf, MS_PER_DAY } from './local-date.js';
import { wallTimeAt } from './time-zone.js';
import type { LineName, Weekday } from './types.js';

/** When a line fires, in words: "every sunday", "the last day of each month". */
export function describeFireDays(line: LineName, weekday: Weekday): string {
  switch (line) {
    case 'daily':
      return 'every day';
    case 'weekly':
      return `every ${weekday}`;
    case 'monthly':
      return 'the last day of each month';
    case 'quarterly':
      return 'the last day of March, June, September and December';
    case 'yearly':
      return 'December 31';
  }
}

/** A duration to the minute, as a policy writes one: `6h`, `1h30m`, `2d3h`, `0m`. */
export function formatDurationMs(durationMs: number): string {
  const totalMinutes = Math.floor(durationMs / 60_000);
  const days = Math.floor(totalMinutes / 1440);
  const hours = Math.floor((totalMinutes % 1440) / 60);
  const minutes = totalMinutes % 60;
  const parts = [
    days > 0 ? `${days}d` : '',
    hours > 0 ? `${hours}h` : '',
    minutes > 0 || totalMinutes === 0 ? `${minutes}m` : '',
  ];
  return parts.join('');
}

/** An instant as the local date and time in a zone: `2026-03-31 01:00`. */
export function formatLocalMinute(timeZone: string, instantMs: number): string {
  const wall = wallTimeAt(timeZone, instantMs);
  const date = formatLocalDate(localDateOf(Math.floor(wall / MS_PER_DAY)));
  const minuteOfDay = Math.floor(floorMod(wall, MS_PER_DAY) / 60_000);
  const hour = String(Math.floor(minuteOfDay / 60)).padStart(2, '0');
  return `${date} ${hour}:${String(minuteOfDay % 60).padStart(2, '0')}`;
}
