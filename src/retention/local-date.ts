/**
 * Calendar dates with no time zone attached: the policy's local dates. Dates are handled as
 * epoch days (days since 1970-01-01) because every line's rule is arithmetic on them.
 */

/** A date on the proleptic Gregorian calendar: `month` is 1–12, `day` is 1–31. */
export interface LocalDate {
  readonly year: number;
  readonly month: number;
  readonly day: number;
}

/** Milliseconds in a day of 24 hours (a UTC day; local days may be longer or shorter). */
export const MS_PER_DAY = 86_400_000;

// Indexed as cron's day-of-week field counts (0 = Sunday).
const WEEKDAY_ABBREVIATIONS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;

const MONTH_ABBREVIATIONS = [
  'jan',
  'feb',
  'mar',
  'apr',
  'may',
  'jun',
  'jul',
  'aug',
  'sep',
  'oct',
  'nov',
  'dec',
] as const;

/** The remainder of `value / divisor` with the sign of the divisor (so -1 mod 7 is 6). */
export function floorMod(value: number, divisor: number): number {
  return ((value % divisor) + divisor) % divisor;
}

/** Days since 1970-01-01 (negative before it). */
export function epochDayOf(date: LocalDate): number {
  // Howard Hinnant's days_from_civil: exact integer arithmetic, no Date and its 1900 quirks.
  const year = date.month <= 2 ? date.year - 1 : date.year;
  const era = Math.floor(year / 400);
  const yearOfEra = year - era * 400;
  const monthFromMarch = date.month > 2 ? date.month - 3 : date.month + 9;
  const dayOfYear = Math.floor((153 * monthFromMarch + 2) / 5) + date.day - 1;
  const dayOfEra =
    yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear;
  return era * 146_097 + dayOfEra - 719_468;
}

/** The date `epochDay` days after 1970-01-01. */
export function localDateOf(epochDay: number): LocalDate {
  const shifted = epochDay + 719_468;
  const era = Math.floor(shifted / 146_097);
  const dayOfEra = shifted - era * 146_097;
  const yearOfEra = Math.floor(
    (dayOfEra -
      Math.floor(dayOfEra / 1460) +
      Math.floor(dayOfEra / 36_524) -
      Math.floor(dayOfEra / 146_096)) /
      365,
  );
  const dayOfYear =
    dayOfEra - (365 * yearOfEra + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100));
  const monthFromMarch = Math.floor((5 * dayOfYear + 2) / 153);
  const day = dayOfYear - Math.floor((153 * monthFromMarch + 2) / 5) + 1;
  const month = monthFromMarch < 10 ? monthFromMarch + 3 : monthFromMarch - 9;
  const year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0);
  return { year, month, day };
}

/** The day of the week of an epoch day, 0 = Sunday as in cron (1970-01-01 was a Thursday). */
export function weekdayIndexOf(epochDay: number): number {
  return floorMod(epochDay + 4, 7);
}

/** Whether `year` has a February 29. */
export function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

/** The number of days in a month (28–31). */
export function daysInMonth(year: number, month: number): number {
  if (month === 2) {
    return isLeapYear(year) ? 29 : 28;
  }
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/** The epoch day of the last day of a month. */
export function lastDayOfMonth(year: number, month: number): number {
  return epochDayOf({ year, month, day: daysInMonth(year, month) });
}

/** The three-letter lowercase name of a month, `jan`…`dec`. */
export function monthAbbreviation(month: number): string {
  return MONTH_ABBREVIATIONS[month - 1] ?? `m${month}`;
}

/** The three-letter lowercase name of a weekday, `sun`…`sat`. */
export function weekdayAbbreviation(weekdayIndex: number): string {
  return WEEKDAY_ABBREVIATIONS[floorMod(weekdayIndex, 7)] ?? 'sun';
}

/** Formats a date as `YYYY-MM-DD`. */
export function formatLocalDate(date: LocalDate): string {
  const year = String(date.year).padStart(4, '0');
  return `${year}-${String(date.month).padStart(2, '0')}-${String(date.day).padStart(2, '0')}`;
}

/**
 * Parses `YYYY-MM-DD` into a date.
 *
 * @returns the date, or `undefined` when the text is not a real calendar date in that form.
 */
export function parseLocalDate(text: string): LocalDate | undefined {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  if (match === null) {
    return undefined;
  }
  const date = { year: Number(match[1]), month: Number(match[2]), day: Number(match[3]) };
  if (date.month < 1 || date.month > 12 || date.day < 1) {
    return undefined;
  }
  return date.day <= daysInMonth(date.year, date.month) ? date : undefined;
}
