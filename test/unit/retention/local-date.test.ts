import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  daysInMonth,
  epochDayOf,
  formatLocalDate,
  localDateOf,
  parseLocalDate,
  weekdayIndexOf,
} from '../../../src/retention/index.js';

describe('local dates', () => {
  it('count epoch days as Date does, across leap years and before 1970', () => {
    fc.assert(
      fc.property(fc.integer({ min: -200_000, max: 200_000 }), (epochDay) => {
        const date = new Date(epochDay * 86_400_000);
        const expected = {
          year: date.getUTCFullYear(),
          month: date.getUTCMonth() + 1,
          day: date.getUTCDate(),
        };
        expect(localDateOf(epochDay)).toEqual(expected);
        expect(epochDayOf(expected)).toBe(epochDay);
        expect(weekdayIndexOf(epochDay)).toBe(date.getUTCDay());
      }),
      { numRuns: 500 },
    );
  });

  it('know the length of February', () => {
    expect([2024, 2025, 2100, 2000].map((year) => daysInMonth(year, 2))).toEqual([29, 28, 28, 29]);
  });

  it('parse and format YYYY-MM-DD, rejecting dates that do not exist', () => {
    expect(parseLocalDate('2028-02-29')).toEqual({ year: 2028, month: 2, day: 29 });
    expect(formatLocalDate({ year: 2028, month: 2, day: 9 })).toBe('2028-02-09');
    for (const text of ['2026-02-29', '2026-13-01', '2026-04-31', '2026-1-01', '26-01-01', '']) {
      expect(parseLocalDate(text), text).toBeUndefined();
    }
  });
});
