/** The month-by-month calendar of `pgbackup plan`: which lines fire on which day. */
import { BINARY_LINES, type LineName } from '../api/index.js';
import {
  daysInMonth,
  epochDayOf,
  formatLocalDate,
  type LocalDate,
  type PlannedBackup,
  weekdayIndexOf,
} from '../retention/index.js';

/** The letter that marks a line's runs in the calendar. */
export const LINE_MARKERS: Readonly<Record<LineName, string>> = {
  daily: 'd',
  weekly: 'w',
  monthly: 'm',
  quarterly: 'q',
  yearly: 'y',
};

const MONTH_NAMES = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December',
];

const CELL_WIDTH = 8;
const HEADER = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun']
  .map((name) => name.padEnd(CELL_WIDTH))
  .join(' ')
  .trimEnd();

/** The inputs of {@link renderPlanCalendar}. */
export interface PlanCalendarInput {
  readonly runs: readonly PlannedBackup[];
  readonly from: LocalDate;
  readonly to: LocalDate;
}

function markersByDate(runs: readonly PlannedBackup[]): Map<string, string> {
  const linesByDate = new Map<string, Set<LineName>>();
  for (const run of runs) {
    const lines = linesByDate.get(run.date) ?? new Set<LineName>();
    lines.add(run.line);
    linesByDate.set(run.date, lines);
  }
  return new Map(
    [...linesByDate].map(([date, lines]) => [
      date,
      BINARY_LINES.filter((line) => lines.has(line))
        .map((line) => LINE_MARKERS[line])
        .join(''),
    ]),
  );
}

interface MonthInput {
  readonly year: number;
  readonly month: number;
  readonly markers: ReadonlyMap<string, string>;
  readonly firstDay: number;
  readonly lastDay: number;
}

function renderMonth({ year, month, markers, firstDay, lastDay }: MonthInput): string[] {
  // Weeks start on Monday; cron counts Sunday as 0.
  const leadingBlanks = (weekdayIndexOf(epochDayOf({ year, month, day: 1 })) + 6) % 7;
  const cells: string[] = Array.from({ length: leadingBlanks }, () => '');
  for (let day = 1; day <= daysInMonth(year, month); day += 1) {
    const date = { year, month, day };
    const epochDay = epochDayOf(date);
    const inRange = epochDay >= firstDay && epochDay <= lastDay;
    const marker = markers.get(formatLocalDate(date)) ?? '';
    cells.push(inRange ? `${String(day).padStart(2)} ${marker}` : '');
  }
  const rows: string[] = [];
  for (let start = 0; start < cells.length; start += 7) {
    const week = cells.slice(start, start + 7).map((cell) => cell.padEnd(CELL_WIDTH));
    const row = week.join(' ').trimEnd();
    // Weeks wholly outside the range would only print blank lines.
    if (row !== '') {
      rows.push(row);
    }
  }
  return [`${MONTH_NAMES[month - 1]} ${year}`, HEADER, ...rows];
}

/**
 * Renders one calendar per month from `from` to `to`, each day of the range numbered and
 * followed by the letters of the lines that fire on it (see {@link LINE_MARKERS}).
 */
export function renderPlanCalendar(input: PlanCalendarInput): string {
  const markers = markersByDate(input.runs);
  const firstDay = epochDayOf(input.from);
  const lastDay = epochDayOf(input.to);
  const months: string[] = [];
  let { year, month } = input.from;
  while (year * 12 + month <= input.to.year * 12 + input.to.month) {
    months.push(renderMonth({ year, month, markers, firstDay, lastDay }).join('\n'));
    month = month === 12 ? 1 : month + 1;
    year = month === 1 ? year + 1 : year;
  }
  return `${months.join('\n\n')}\n`;
}
