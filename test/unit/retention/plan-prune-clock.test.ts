/**
 * One clock for "newest" (issue 14, finding 9): runners on different nodes stamp
 * `committedAt` with their own clocks, which may differ by minutes. Pruning orders a line's
 * backups by period, then by the backed-up server's clock, and only then by the runners'
 * clocks, so a skewed runner never gets the newest backup pruned.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type LineBackup, planPrune, slotOf } from '../../../src/retention/index.js';

const MINUTE_MS = 60_000;
/** 2026-12-03T01:00:00Z */
const FIRE_MS = Date.UTC(2026, 11, 3, 1);
const PERIOD = 20_790;

function daily(id: string, period: number, times: { committed: number; server?: number }) {
  return {
    id,
    line: 'daily',
    period,
    slot: slotOf(period, 7),
    committedAtMs: times.committed,
    ...(times.server === undefined ? {} : { serverTimeMs: times.server }),
  } satisfies LineBackup;
}

describe('planPrune with runners whose clocks differ', () => {
  it('keeps the backup committed last when its runner is minutes behind the previous one', () => {
    // Runner A (clock right) takes the day's backup; runner B, 10 minutes behind, takes it
    // again a quarter of an hour later. B's backup is the newest, though its committedAt says
    // otherwise; the server (one clock for both) says which came last.
    const first = daily('a', PERIOD, {
      committed: FIRE_MS + 5 * MINUTE_MS,
      server: FIRE_MS + 4 * MINUTE_MS,
    });
    const second = daily('b', PERIOD, {
      committed: FIRE_MS + 2 * MINUTE_MS,
      server: FIRE_MS + 12 * MINUTE_MS,
    });

    const decisions = planPrune({ keep: 7, existing: [first], committed: second });

    expect(decisions.map(({ id }) => id)).toEqual(['a']);
  });

  it("orders by period first: a later period's backup replaces an earlier one whatever the clocks say", () => {
    // keep 1: one slot. Yesterday's runner was 20 minutes ahead: its committedAt is later
    // than today's backup's.
    const yesterday = {
      ...daily('y', PERIOD - 1, { committed: FIRE_MS + 20 * MINUTE_MS }),
      slot: 0,
    };
    const today = { ...daily('t', PERIOD, { committed: FIRE_MS - 30 * MINUTE_MS }), slot: 0 };

    const decisions = planPrune({ keep: 1, existing: [yesterday], committed: today });

    expect(decisions.map(({ id }) => id)).toEqual(['y']);
  });

  it('never prunes the backup the run committed, nor the newest by period then server clock', () => {
    const arbitraryBackup = fc.record({
      period: fc.integer({ min: PERIOD - 3, max: PERIOD }),
      committedSkewMs: fc.integer({ min: -30 * MINUTE_MS, max: 30 * MINUTE_MS }),
      serverMs: fc.integer({ min: 0, max: 24 * 60 * MINUTE_MS }),
    });
    fc.assert(
      fc.property(
        fc.array(arbitraryBackup, { minLength: 1, maxLength: 8 }),
        fc.integer({ min: 1, max: 7 }),
        (specs, keep) => {
          const backups = specs.map((spec, index) => ({
            id: `b${index}`,
            line: 'daily' as const,
            period: spec.period,
            slot: slotOf(spec.period, keep),
            serverTimeMs: FIRE_MS + spec.serverMs,
            committedAtMs: FIRE_MS + spec.serverMs + spec.committedSkewMs,
          }));
          const committed = backups.at(-1);
          if (committed === undefined) return;
          const newest = [...backups].sort(
            (a, b) => b.period - a.period || b.serverTimeMs - a.serverTimeMs,
          )[0];
          const pruned = new Set(
            planPrune({ keep, existing: backups.slice(0, -1), committed }).map(({ id }) => id),
          );
          expect(pruned.has(committed.id)).toBe(false);
          if (
            newest !== undefined &&
            backups.filter(
              (b) => b.period === newest.period && b.serverTimeMs === newest.serverTimeMs,
            ).length === 1
          ) {
            expect(pruned.has(newest.id)).toBe(false);
          }
        },
      ),
    );
  });
});
