import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BINARY_LINES, type LineName, LOGICAL_LINES } from '../../../src/api/index.js';
import {
  type PlannedBackup,
  type RetentionLine,
  type RetentionPlan,
  simulatePlan,
} from '../../../src/retention/index.js';
import { arbitrarySchedule, arbitraryStart } from './arbitraries.js';

const DEFAULT_KEEP: Record<LineName, number> = {
  daily: 7,
  weekly: 4,
  monthly: 3,
  quarterly: 4,
  yearly: 2,
};

const utcDefaults: RetentionPlan = {
  schedule: {
    timeZone: 'UTC',
    time: { hour: 1, minute: 0 },
    weekday: 'sunday',
    latenessSeconds: 21_600,
  },
  binary: BINARY_LINES.map((line) => ({ line, keep: DEFAULT_KEEP[line] })),
  logical: LOGICAL_LINES.map((line) => ({ line, keep: DEFAULT_KEEP[line] })),
};

function datesOf(backups: readonly PlannedBackup[], type: string, line: LineName): string[] {
  return backups
    .filter((backup) => backup.type === type && backup.line === line)
    .map(({ date }) => date);
}

describe('the plan preview', () => {
  it('retains, at the end of 2026 in UTC with the defaults, the backups the design promises', () => {
    const { retained } = simulatePlan({
      plan: utcDefaults,
      from: { year: 2026, month: 1, day: 1 },
      to: { year: 2026, month: 12, day: 31 },
    });
    expect(datesOf(retained, 'binary', 'daily')).toEqual([
      '2026-12-25',
      '2026-12-26',
      '2026-12-27',
      '2026-12-28',
      '2026-12-29',
      '2026-12-30',
      '2026-12-31',
    ]);
    expect(datesOf(retained, 'binary', 'weekly')).toEqual([
      '2026-12-06',
      '2026-12-13',
      '2026-12-20',
      '2026-12-27',
    ]);
    expect(datesOf(retained, 'binary', 'monthly')).toEqual([
      '2026-10-31',
      '2026-11-30',
      '2026-12-31',
    ]);
    expect(datesOf(retained, 'binary', 'quarterly')).toEqual([
      '2026-03-31',
      '2026-06-30',
      '2026-09-30',
      '2026-12-31',
    ]);
    expect(datesOf(retained, 'binary', 'yearly')).toEqual(['2026-12-31']);
    expect(retained.filter(({ type }) => type === 'binary')).toHaveLength(19);
  });

  it('takes five binary backups, one per line, on a Sunday December 31', () => {
    const { runs } = simulatePlan({
      plan: utcDefaults,
      from: { year: 2023, month: 12, day: 31 },
      to: { year: 2023, month: 12, day: 31 },
    });
    const lines = (type: string) => runs.filter((run) => run.type === type).map(({ line }) => line);
    expect(lines('binary')).toEqual(['daily', 'weekly', 'monthly', 'quarterly', 'yearly']);
    expect(lines('logical')).toEqual(['weekly', 'monthly', 'quarterly', 'yearly']);
  });
});

/** Some of the lines, each with a keep small enough to warm up within a few years. */
function arbitraryLines(lines: readonly LineName[]): fc.Arbitrary<RetentionLine[]> {
  return fc.subarray([...lines]).chain((chosen) =>
    fc.tuple(
      ...chosen.map((line) =>
        fc.record({
          line: fc.constant(line),
          keep: fc.integer({ min: 1, max: line === 'yearly' ? 3 : 8 }),
        }),
      ),
    ),
  );
}

const arbitraryPlan: fc.Arbitrary<RetentionPlan> = fc.record({
  schedule: arbitrarySchedule,
  binary: arbitraryLines(BINARY_LINES),
  logical: arbitraryLines(LOGICAL_LINES),
});

describe('the plan preview over random policies', () => {
  it('keeps per line the latest keep runs, in distinct slots, and gives each backup one line', () => {
    fc.assert(
      fc.property(
        arbitraryPlan,
        arbitraryStart,
        fc.integer({ min: 1, max: 4 }),
        (plan, from, years) => {
          const to = { year: from.year + years, month: 12, day: 31 };
          const { runs, retained } = simulatePlan({ plan, from, to });
          const keys = runs.map((run) => `${run.date} ${run.type} ${run.line}`);
          expect(new Set(keys).size).toBe(keys.length);
          for (const type of ['binary', 'logical'] as const) {
            for (const { line, keep } of plan[type]) {
              const ofLine = (backups: readonly PlannedBackup[]) =>
                backups.filter((backup) => backup.type === type && backup.line === line);
              const latest = ofLine(runs).slice(-keep);
              expect(ofLine(retained)).toEqual(latest);
              expect(new Set(latest.map(({ slot }) => slot)).size).toBe(latest.length);
            }
          }
        },
      ),
      { numRuns: 40 },
    );
  }, 60_000);
});
