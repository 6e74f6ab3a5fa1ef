import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type LineBackup, planPrune, slotOf } from '../../../src/retention/index.js';

type Event =
  | { readonly kind: 'run'; readonly succeeds: boolean }
  | { readonly kind: 'keep'; readonly keep: number }
  | { readonly kind: 'pause'; readonly periods: number };

const arbitraryKeep = fc.integer({ min: 1, max: 10 });

const arbitraryEvent: fc.Arbitrary<Event> = fc.oneof(
  { weight: 12, arbitrary: fc.record({ kind: fc.constant('run'), succeeds: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('keep'), keep: arbitraryKeep }) },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('pause'), periods: fc.integer({ min: 1, max: 15 }) }),
  },
) as fc.Arbitrary<Event>;

/** A line's catalog as it evolves through runs, keep changes and stretches with the line disabled. */
class LineModel {
  period = 0;
  catalog: LineBackup[] = [];

  constructor(public keep: number) {}

  commit(): { committed: LineBackup; deleted: ReadonlySet<string>; before: LineBackup[] } {
    const committed: LineBackup = {
      id: `daily-${this.period}`,
      line: 'daily',
      period: this.period,
      slot: slotOf(this.period, this.keep),
      committedAtMs: this.period * 1000,
    };
    const before = this.catalog;
    const decisions = planPrune({ keep: this.keep, existing: before, committed });
    const deleted = new Set(decisions.map(({ id }) => id));
    this.catalog = [...before.filter(({ id }) => !deleted.has(id)), committed];
    this.period += 1;
    return { committed, deleted, before };
  }

  apply(event: Event): void {
    if (event.kind === 'keep') {
      this.keep = event.keep;
    } else if (event.kind === 'pause') {
      this.period += event.periods;
    } else if (event.succeeds) {
      this.check(this.commit());
    } else {
      // A failed run commits nothing, so nothing replaces anything.
      expect(planPrune({ keep: this.keep, existing: this.catalog, committed: undefined })).toEqual(
        [],
      );
      this.period += 1;
    }
  }

  private check({ committed, deleted, before }: ReturnType<LineModel['commit']>): void {
    const keep = this.keep;
    const after = this.catalog;
    expect([...deleted].every((id) => before.some((backup) => backup.id === id))).toBe(true);
    expect(after).toContain(committed);
    for (const backup of before) {
      if (backup.period > committed.period - keep) {
        expect(deleted.has(backup.id), `period ${backup.period} is among the latest ${keep}`).toBe(
          false,
        );
      }
      if (deleted.has(backup.id)) {
        expectJustified({ backup, after, keep });
      }
    }
  }
}

/** A deleted backup was replaced in its slot, or `keep` newer backups are kept. */
function expectJustified(input: { backup: LineBackup; after: LineBackup[]; keep: number }): void {
  const { backup, after, keep } = input;
  const inPlace = backup.slot < keep && backup.slot === slotOf(backup.period, keep);
  const newer = after.filter((other) => other.period > backup.period);
  if (inPlace) {
    expect(newer.some((other) => other.slot === backup.slot)).toBe(true);
  } else {
    expect(newer.length).toBeGreaterThanOrEqual(keep);
  }
}

describe('planPrune', () => {
  it('never deletes the latest keep periods, the newest backup, or anything after a failed run', () => {
    fc.assert(
      fc.property(arbitraryKeep, fc.array(arbitraryEvent, { maxLength: 120 }), (keep, events) => {
        const model = new LineModel(keep);
        for (const event of events) {
          model.apply(event);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('keeps exactly the latest keep periods, in distinct slots, once warmed up', () => {
    fc.assert(
      fc.property(
        arbitraryKeep,
        fc.array(arbitraryEvent, { maxLength: 40 }),
        fc.integer({ min: 0, max: 10 }),
        (keep, history, extra) => {
          const model = new LineModel(keep);
          for (const event of history) {
            model.apply(event);
          }
          // Whatever happened before, `keep` successful runs in a row settle the line.
          for (let run = 0; run < model.keep + extra; run += 1) {
            model.apply({ kind: 'run', succeeds: true });
          }
          const periods = model.catalog.map(({ period }) => period).sort((a, b) => a - b);
          const latest = Array.from(
            { length: model.keep },
            (_, index) => model.period - model.keep + index,
          );
          expect(periods).toEqual(latest);
          expect(new Set(model.catalog.map(({ slot }) => slot)).size).toBe(model.keep);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('never leaves fewer than keep backups when keep is lowered or the line paused', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 10 }),
        fc.integer({ min: 1, max: 10 }),
        fc.integer({ min: 0, max: 30 }),
        (oldKeep, newKeep, pausedPeriods) => {
          const model = new LineModel(oldKeep);
          for (let run = 0; run < oldKeep; run += 1) {
            model.apply({ kind: 'run', succeeds: true });
          }
          model.apply({ kind: 'pause', periods: pausedPeriods });
          model.apply({ kind: 'keep', keep: newKeep });
          for (let run = 0; run < newKeep + oldKeep; run += 1) {
            model.apply({ kind: 'run', succeeds: true });
            expect(model.catalog.length).toBeGreaterThanOrEqual(Math.min(oldKeep, newKeep));
          }
          expect(model.catalog).toHaveLength(newKeep);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('replaces the occupant of the slot, and only it', () => {
    const backup = (period: number): LineBackup => ({
      id: `b${period}`,
      line: 'weekly',
      period,
      slot: period % 4,
      committedAtMs: period,
    });
    const existing = [0, 1, 2, 3].map(backup);
    expect(planPrune({ keep: 4, existing, committed: backup(4) })).toEqual([
      { id: 'b0', reason: 'replaced in weekly slot 0 by b4' },
    ]);
  });

  it("judges the newest by period, not by a runner's commit time: a newer period replaces a retake of an older one", () => {
    // A retake of an old period, committed (by its runner's clock) after the backup of a
    // newer one. Runners' clocks differ between nodes; the period does not.
    const retake: LineBackup = {
      id: 'retake',
      line: 'daily',
      period: 0,
      slot: 0,
      committedAtMs: 99,
    };
    const committed: LineBackup = {
      id: 'new',
      line: 'daily',
      period: 7,
      slot: 0,
      committedAtMs: 50,
    };
    expect(planPrune({ keep: 7, existing: [retake], committed })).toEqual([
      { id: 'retake', reason: 'replaced in daily slot 0 by new' },
    ]);
  });

  it('never deletes the backup the run committed, even a retake of an older period', () => {
    const newer: LineBackup = { id: 'new', line: 'daily', period: 7, slot: 0, committedAtMs: 50 };
    const retake: LineBackup = {
      id: 'retake',
      line: 'daily',
      period: 0,
      slot: 0,
      committedAtMs: 99,
    };
    expect(planPrune({ keep: 7, existing: [newer], committed: retake })).toEqual([]);
  });

  it('leaves the backups of other lines alone', () => {
    const daily: LineBackup = { id: 'd', line: 'daily', period: 1, slot: 0, committedAtMs: 1 };
    const weekly: LineBackup = { id: 'w', line: 'weekly', period: 9, slot: 0, committedAtMs: 9 };
    expect(planPrune({ keep: 1, existing: [daily], committed: weekly })).toEqual([]);
  });
});
