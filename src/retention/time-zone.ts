/**
 * Time zone arithmetic on the IANA database that Node bundles (ICU), through
 * `Intl.DateTimeFormat`: the only zone-aware API in Node 20 (Temporal is not there yet).
 * Instants are milliseconds since the Unix epoch; wall times are "the clock on the wall"
 * expressed as if they were UTC milliseconds, so that `wall - instant` is the UTC offset.
 */
import { MS_PER_DAY } from './local-date.js';

const MS_PER_MINUTE = 60_000;

// Formatters are costly to build and immutable, so one per zone is kept for the process.
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(timeZone);
  if (formatter === undefined) {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(timeZone, formatter);
  }
  return formatter;
}

const FORMATTED = /^(\d+)\/(\d+)\/(\d+), (\d+):(\d+):(\d+)$/;

/** Year, month, day, hour, minute and second of a formatted instant, in that order. */
function fieldsOf(formatter: Intl.DateTimeFormat, secondMs: number): number[] {
  // `format` and a regular expression are three times faster than `formatToParts`, which is
  // kept for an ICU whose en-US layout differs.
  const match = FORMATTED.exec(formatter.format(secondMs));
  if (match !== null) {
    const [, month, day, year, hour, minute, second] = match.map(Number);
    return [year, month, day, hour, minute, second].map((field) => field ?? 0);
  }
  const parts = new Map(
    formatter.formatToParts(secondMs).map((part) => [part.type, Number(part.value)]),
  );
  return ['year', 'month', 'day', 'hour', 'minute', 'second'].map(
    (type) => parts.get(type as Intl.DateTimeFormatPartTypes) ?? 0,
  );
}

/**
 * The wall time in `timeZone` at an instant, as UTC milliseconds.
 *
 * @throws RangeError when `timeZone` is not a zone ICU knows (validated policies never do).
 */
export function wallTimeAt(timeZone: string, instantMs: number): number {
  const secondMs = Math.floor(instantMs / 1000) * 1000;
  const [year = 1970, month = 1, day = 1, hour = 0, minute = 0, second = 0] = fieldsOf(
    formatterFor(timeZone),
    secondMs,
  );
  const wall = new Date(0);
  // setUTCFullYear, unlike Date.UTC, does not map years 0–99 to 1900–1999.
  wall.setUTCFullYear(year, month - 1, day);
  wall.setUTCHours(hour, minute, second, instantMs - secondMs);
  return wall.getTime();
}

/** The UTC offset in milliseconds in effect in `timeZone` at an instant. */
export function offsetMsAt(timeZone: string, instantMs: number): number {
  return wallTimeAt(timeZone, instantMs) - instantMs;
}

/** The local date (as an epoch day) in `timeZone` at an instant. */
export function epochDayAt(timeZone: string, instantMs: number): number {
  return Math.floor(wallTimeAt(timeZone, instantMs) / MS_PER_DAY);
}

/**
 * Every instant at which the clock in `timeZone` shows a given wall time, earliest first:
 * none when the wall time falls in a gap (clocks spring forward over it), two when it falls
 * in an overlap (clocks fall back over it), one otherwise.
 */
export function instantsOfWallTime(timeZone: string, wallMs: number): readonly number[] {
  // The offsets a day either side are the only ones in effect near the wall time unless a
  // zone changes its offset twice within two days, which the calendar of no line relies on.
  const offsets = new Set([
    offsetMsAt(timeZone, wallMs - MS_PER_DAY),
    offsetMsAt(timeZone, wallMs + MS_PER_DAY),
  ]);
  const instants: number[] = [];
  for (const offset of offsets) {
    const candidate = wallMs - offset;
    if (wallTimeAt(timeZone, candidate) === wallMs) {
      instants.push(candidate);
    }
  }
  return instants.sort((left, right) => left - right);
}

/** The wall time, as UTC milliseconds, of a minute of a local date. */
export function wallTimeOf(epochDay: number, minuteOfDay: number): number {
  return epochDay * MS_PER_DAY + minuteOfDay * MS_PER_MINUTE;
}
