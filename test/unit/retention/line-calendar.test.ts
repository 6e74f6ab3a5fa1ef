import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BINARY_LINES, WEEKDAYS } from '../../../src/api/index.js';
import {
  epochDayOf,
  fireDayOfPeriod,
  formatLocalDate,
  isFireDay,
  type LineCalendar,
  labelOf,
  latestFireDayOnOrBefore,
  localDateOf,
  periodOf,
  slotOf,
} from '../../../src/retention/index.js';

const arbitraryCalendar: fc.Arbitrary<LineCalendar> = fc.record({
  line: fc.constantFrom(...BINARY_LINES),
  weekday: fc.constantFrom(...WEEKDAYS),
});

const arbitraryEpochDay = fc.integer({ min: 0, max: epochDayOf({ year: 2200, month: 1, day: 1 }) });

function fireDaysIn(calendar: LineCalendar, from: string, to: string): string[] {
  const [first, last] = [from, to].map((text) => {
    const [year, month, day] = text.split('-').map(Number);
    return epochDayOf({ year: year ?? 0, month: month ?? 0, day: day ?? 0 });
  });
  const days: string[] = [];
  for (let day = first ?? 0; day <= (last ?? 0); day += 1) {
    if (isFireDay(calendar, day)) {
      days.push(formatLocalDate(localDateOf(day)));
    }
  }
  return days;
}

describe('fire days', () => {
  it('fall on the last day of each month, February 29 included', () => {
    const monthly = { line: 'monthly', weekday: 'sunday' } as const;
    expect(fireDaysIn(monthly, '2028-01-15', '2028-04-15')).toEqual([
      '2028-01-31',
      '2028-02-29',
      '2028-03-31',
    ]);
  });

  it('fall on quarter ends, December 31 and the configured weekday', () => {
    const quarterly = { line: 'quarterly', weekday: 'sunday' } as const;
    expect(fireDaysIn(quarterly, '2026-01-01', '2026-12-31')).toEqual([
      '2026-03-31',
      '2026-06-30',
      '2026-09-30',
      '2026-12-31',
    ]);
    const yearly = { line: 'yearly', weekday: 'sunday' } as const;
    expect(fireDaysIn(yearly, '2025-01-01', '2026-12-31')).toEqual(['2025-12-31', '2026-12-31']);
    const weekly = { line: 'weekly', weekday: 'wednesday' } as const;
    expect(fireDaysIn(weekly, '2026-01-01', '2026-01-20')).toEqual(['2026-01-07', '2026-01-14']);
  });

  it('have a latest one on or before any date, with no fire day in between', () => {
    fc.assert(
      fc.property(arbitraryCalendar, arbitraryEpochDay, (calendar, epochDay) => {
        const latest = latestFireDayOnOrBefore(calendar, epochDay);
        expect(isFireDay(calendar, latest)).toBe(true);
        expect(latest).toBeLessThanOrEqual(epochDay);
        for (let day = latest + 1; day <= epochDay; day += 1) {
          expect(isFireDay(calendar, day)).toBe(false);
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('period numbers', () => {
  it('count as the design says', () => {
    const on = (
      line: LineCalendar['line'],
      date: string,
      weekday: LineCalendar['weekday'] = 'sunday',
    ) => {
      const [year, month, day] = date.split('-').map(Number);
      return periodOf(
        { line, weekday },
        epochDayOf({ year: year ?? 0, month: month ?? 0, day: day ?? 0 }),
      );
    };
    expect(on('daily', '1970-01-01')).toBe(0);
    expect(on('weekly', '1970-01-04')).toBe(0);
    // "The first such weekday after 1970-01-01", itself a Thursday, is 1970-01-08.
    expect(on('weekly', '1970-01-08', 'thursday')).toBe(0);
    expect(on('monthly', '2026-01-31')).toBe(2026 * 12 + 1);
    expect(on('quarterly', '2026-12-31')).toBe(2026 * 4 + 4);
    expect(on('yearly', '2026-12-31')).toBe(2026);
  });

  it('are consecutive over consecutive fire days and map back to their fire day', () => {
    fc.assert(
      fc.property(arbitraryCalendar, arbitraryEpochDay, (calendar, epochDay) => {
        const fireDay = latestFireDayOnOrBefore(calendar, epochDay);
        const previous = latestFireDayOnOrBefore(calendar, fireDay - 1);
        const period = periodOf(calendar, fireDay);
        expect(periodOf(calendar, previous)).toBe(period - 1);
        expect(fireDayOfPeriod(calendar, period)).toBe(fireDay);
      }),
      { numRuns: 300 },
    );
  });
});

describe('slots and labels', () => {
  const labelsOf = (calendar: LineCalendar, keep: number, from: string, to: string) =>
    fireDaysIn(calendar, from, to).map((date) => {
      const [year, month, day] = date.split('-').map(Number);
      const period = periodOf(
        calendar,
        epochDayOf({ year: year ?? 0, month: month ?? 0, day: day ?? 0 }),
      );
      return `${slotOf(period, keep)}:${labelOf({ ...calendar, period, keep })}`;
    });

  it('name a week of dailies by weekday when keep is 7, and by slot otherwise', () => {
    const daily = { line: 'daily', weekday: 'sunday' } as const;
    expect(labelsOf(daily, 7, '2026-01-05', '2026-01-11')).toEqual([
      '4:mon',
      '5:tue',
      '6:wed',
      '0:thu',
      '1:fri',
      '2:sat',
      '3:sun',
    ]);
    expect(labelsOf(daily, 3, '2026-01-05', '2026-01-07')).toEqual([
      '1:day-2',
      '2:day-3',
      '0:day-1',
    ]);
  });

  it('name weeklies by weekday and slot, monthlies by month, quarters and years by themselves', () => {
    const weekly = { line: 'weekly', weekday: 'sunday' } as const;
    expect(labelsOf(weekly, 4, '2026-01-01', '2026-01-31')).toEqual([
      '2:sun-3',
      '3:sun-4',
      '0:sun-1',
      '1:sun-2',
    ]);
    const monthly = { line: 'monthly', weekday: 'sunday' } as const;
    expect(labelsOf(monthly, 3, '2026-01-01', '2026-04-30')).toEqual([
      '1:jan',
      '2:feb',
      '0:mar',
      '1:apr',
    ]);
    const quarterly = { line: 'quarterly', weekday: 'sunday' } as const;
    expect(labelsOf(quarterly, 4, '2026-01-01', '2026-12-31')).toEqual([
      '1:q1',
      '2:q2',
      '3:q3',
      '0:q4',
    ]);
    const yearly = { line: 'yearly', weekday: 'sunday' } as const;
    expect(labelsOf(yearly, 2, '2025-01-01', '2026-12-31')).toEqual(['1:2025', '0:2026']);
  });
});
