/**
 * The calendar of each line (DESIGN.md §1): its fire days, its period numbers and the slot
 * and label of a period. All days are local dates in the policy's time zone, as epoch days.
 */

import {
  daysInMonth,
  epochDayOf,
  floorMod,
  lastDayOfMonth,
  localDateOf,
  monthAbbreviation,
  weekdayAbbreviation,
  weekdayIndexOf,
} from './local-date.js';
import type { LineName, Weekday } from './types.js';

/** Cron's day-of-week number of each weekday (0 = Sunday). */
export const CRON_WEEKDAY: Readonly<Record<Weekday, number>> = {
  sunday: 0,
  monday: 1,
  tuesday: 2,
  wednesday: 3,
  thursday: 4,
  friday: 5,
  saturday: 6,
};

/** A line and the weekday its weekly line fires on: what fire days and periods depend on. */
export interface LineCalendar {
  readonly line: LineName;
  readonly weekday: Weekday;
}

function isLastDayOfMonth(epochDay: number): boolean {
  const { year, month, day } = localDateOf(epochDay);
  return day === daysInMonth(year, month);
}

/** Whether a local date is a fire day of the line. */
export function isFireDay(calendar: LineCalendar, epochDay: number): boolean {
  const { month } = localDateOf(epochDay);
  switch (calendar.line) {
    case 'daily':
      return true;
    case 'weekly':
      return weekdayIndexOf(epochDay) === CRON_WEEKDAY[calendar.weekday];
    case 'monthly':
      return isLastDayOfMonth(epochDay);
    case 'quarterly':
      return month % 3 === 0 && isLastDayOfMonth(epochDay);
    case 'yearly':
      return month === 12 && isLastDayOfMonth(epochDay);
  }
}

/** The latest fire day of the line on or before a local date. */
export function latestFireDayOnOrBefore(calendar: LineCalendar, epochDay: number): number {
  if (isFireDay(calendar, epochDay)) {
    return epochDay;
  }
  const { year, month } = localDateOf(epochDay);
  switch (calendar.line) {
    case 'daily':
      return epochDay;
    case 'weekly':
      return epochDay - floorMod(weekdayIndexOf(epochDay) - CRON_WEEKDAY[calendar.weekday], 7);
    case 'monthly':
      return epochDayOf({ year, month, day: 1 }) - 1;
    case 'quarterly':
      // The day before the first day of this quarter is the last day of the previous one.
      return epochDayOf({ year, month: month - floorMod(month - 1, 3), day: 1 }) - 1;
    case 'yearly':
      return epochDayOf({ year, month: 1, day: 1 }) - 1;
  }
}

/**
 * The first fire day of the weekly line counted as week 0: the first such weekday after
 * 1970-01-01, read strictly, as DESIGN.md says ("after"): 1970-01-04 for Sunday, and
 * 1970-01-08 (not 1970-01-01, itself a Thursday) for Thursday.
 */
function firstWeeklyFireDay(weekday: Weekday): number {
  const thursday = weekdayIndexOf(0);
  return floorMod(CRON_WEEKDAY[weekday] - thursday - 1, 7) + 1;
}

/**
 * The period number `n` of a fire day of the line:
 * daily, the days since 1970-01-01; weekly, the weeks since the first such weekday after
 * 1970-01-01; monthly, year·12 + month (month 1–12, as DESIGN.md writes it); quarterly,
 * year·4 + quarter (quarter 1–4); yearly, the year.
 */
export function periodOf(calendar: LineCalendar, fireDay: number): number {
  const { year, month } = localDateOf(fireDay);
  switch (calendar.line) {
    case 'daily':
      return fireDay;
    case 'weekly':
      return Math.floor((fireDay - firstWeeklyFireDay(calendar.weekday)) / 7);
    case 'monthly':
      return year * 12 + month;
    case 'quarterly':
      return year * 4 + Math.ceil(month / 3);
    case 'yearly':
      return year;
  }
}

/** The fire day of a period of the line: the inverse of {@link periodOf}. */
export function fireDayOfPeriod(calendar: LineCalendar, period: number): number {
  switch (calendar.line) {
    case 'daily':
      return period;
    case 'weekly':
      return firstWeeklyFireDay(calendar.weekday) + period * 7;
    case 'monthly': {
      const year = Math.floor((period - 1) / 12);
      return lastDayOfMonth(year, period - year * 12);
    }
    case 'quarterly': {
      const year = Math.floor((period - 1) / 4);
      return lastDayOfMonth(year, (period - year * 4) * 3);
    }
    case 'yearly':
      return lastDayOfMonth(period, 12);
  }
}

/** The slot a period fills in a line that keeps `keep` slots: `n mod keep`, 0-based. */
export function slotOf(period: number, keep: number): number {
  return floorMod(period, keep);
}

/** A line, its weekday, and how many slots it keeps: what a label depends on. */
export interface LabelInput extends LineCalendar {
  readonly period: number;
  readonly keep: number;
}

/**
 * The label people see for the backup of a period:
 * daily with keep 7, the weekday (`mon`…`sun`, fixed per slot); daily with any other keep,
 * `day-1`…`day-<keep>` (the slot plus one, as weekly counts); weekly, the weekday and the
 * slot plus one (`sun-1`…`sun-4`); monthly, the month of the backup (`jan`); quarterly, its
 * quarter (`q1`…`q4`); yearly, its year (`2026`).
 */
export function labelOf(input: LabelInput): string {
  const slot = slotOf(input.period, input.keep);
  const fireDay = fireDayOfPeriod(input, input.period);
  const { year, month } = localDateOf(fireDay);
  switch (input.line) {
    case 'daily':
      return input.keep === 7 ? weekdayAbbreviation(weekdayIndexOf(fireDay)) : `day-${slot + 1}`;
    case 'weekly':
      return `${weekdayAbbreviation(CRON_WEEKDAY[input.weekday])}-${slot + 1}`;
    case 'monthly':
      return monthAbbreviation(month);
    case 'quarterly':
      return `q${Math.ceil(month / 3)}`;
    case 'yearly':
      return String(year);
  }
}
