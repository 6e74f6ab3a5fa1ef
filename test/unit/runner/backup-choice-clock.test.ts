/**
 * One clock for "newest" in restores and the catalog (issue 14, finding 9): two runners whose
 * clocks differ by minutes each take a daily backup; `committedAt` (each runner's clock) says
 * the wrong one came last, the server's clock (`server.startedAt`) says the right one.
 * Restores reach for the backup rotation keeps as the line's newest.
 */
import { describe, expect, it } from 'vitest';
import { type LineBackup, planPrune, slotOf } from '../../../src/retention/index.js';
import {
  chooseBackup,
  newestBackupOf,
  sortNewestFirst,
} from '../../../src/runner/backup-choice.js';
import { lineBackupOf } from '../../../src/runner/rotate.js';
import type { CatalogEntry } from '../../../src/storage/index.js';
import { catalogFixture } from '../cli/list-catalog.js';

const WHERE = 'binary backups of BackupPolicy shop/orders in s3://b';
const KEEP = 7;

function fixtureDaily(): CatalogEntry {
  const daily = catalogFixture().find((entry) => entry.manifest.line === 'daily');
  if (daily === undefined) throw new Error('no daily in test/fixtures/list/catalog.json');
  return daily;
}

/** The fixture's daily backup retaken under `key`, at the given runner and server instants. */
function retaken(
  key: string,
  times: { committedAt: string; serverStartedAt: string; period?: number },
) {
  const { manifest } = fixtureDaily();
  const period = times.period ?? manifest.period;
  return {
    key,
    manifest: {
      ...manifest,
      period,
      slot: slotOf(period, KEEP),
      committedAt: times.committedAt,
      server: { ...manifest.server, startedAt: times.serverStartedAt },
    },
  } satisfies CatalogEntry;
}

// Runner A's clock is right; runner B's is 10 minutes behind and took the day's backup again
// a quarter of an hour after A.
const byA = retaken('p/binary/daily/1/20261123T020000Z-aaaaaa/', {
  committedAt: '2026-11-23T02:05:00.000Z',
  serverStartedAt: '2026-11-23T02:04:00.000Z',
});
const byB = retaken('p/binary/daily/1/20261123T020000Z-bbbbbb/', {
  committedAt: '2026-11-23T02:02:00.000Z',
  serverStartedAt: '2026-11-23T02:12:00.000Z',
});

describe("restore's newest with runners whose clocks differ", () => {
  it("takes the backup the server's clock says came last, not a runner's committedAt", () => {
    expect(newestBackupOf([byA, byB])?.key).toBe(byB.key);
    expect(newestBackupOf([byB, byA])?.key).toBe(byB.key);
    expect(chooseBackup([byA, byB], { line: 'daily' }, WHERE).key).toBe(byB.key);
  });

  it('agrees with rotation on the newest of a line: the one it never prunes', () => {
    const backups = [byA, byB].flatMap((entry) => lineBackupOf(entry) ?? []) as LineBackup[];
    const [existing, committed] = backups;
    const pruned = planPrune({
      keep: 7,
      existing: existing === undefined ? [] : [existing],
      committed,
    });
    expect(pruned.map(({ id }) => id)).toEqual([byA.key]);
    expect(chooseBackup([byA, byB], { line: 'daily' }, WHERE).key).toBe(byB.key);
  });

  it("judges a line's newest by period before any clock, as rotation does", () => {
    // The next day's backup, by a runner (and server) whose clock was set back an hour.
    const nextDay = retaken('p/binary/daily/2/20261124T020000Z-cccccc/', {
      period: fixtureDaily().manifest.period + 1,
      committedAt: '2026-11-23T01:00:00.000Z',
      serverStartedAt: '2026-11-23T00:59:00.000Z',
    });
    expect(chooseBackup([byA, byB, nextDay], { line: 'daily' }, WHERE).key).toBe(nextDay.key);
    expect(sortNewestFirst([byA, nextDay, byB]).map(({ key }) => key)).toEqual([
      nextDay.key,
      byB.key,
      byA.key,
    ]);
  });

  it('lists other lines by the server clock, each line in its own order', () => {
    const onDemand = catalogFixture().find((entry) => entry.manifest.line === '');
    if (onDemand === undefined) throw new Error('no on-demand backup in the fixture');
    const between = {
      ...onDemand,
      manifest: {
        ...onDemand.manifest,
        committedAt: '2026-11-23T03:00:00.000Z',
        server: { ...onDemand.manifest.server, startedAt: '2026-11-23T02:08:00.000Z' },
      },
    };
    expect(sortNewestFirst([byA, between, byB]).map(({ key }) => key)).toEqual([
      byB.key,
      between.key,
      byA.key,
    ]);
  });
});
