/**
 * WAL retention over simulated days: binary backups taken with `--at` on four days while the
 * receiver streams the server's WAL into the bucket, window 1d. `wal-prune --at` deletes the
 * WAL before the window's anchor (the newest backup older than the window) and nothing the
 * window needs: `wal-status` shows the bucket continuous from the anchor on. A backup older
 * than the anchor still restores, because binary backups carry their own WAL.
 */
import { chmod, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import {
  formatLsn,
  parseLsn,
  parseWalFileName,
  segmentOf,
} from '../../../src/retention/wal-names.js';
import { runEnvironment, runPgbackup, startPgbackup } from '../../harness/pgbackup-run.js';
import { withClient } from '../../harness/postgres.js';
import { startRestoredServer } from '../../harness/restore.js';
import { type ScratchServer, startScratchPrimary } from '../../harness/scratch-postgres.js';
import { readObjectText } from '../binary/policy-file.js';
import { hostOf } from '../logical/scratch-pair.js';
import { restoreParentDir, runRestore } from '../restore/restore-run.js';
import {
  bucketContinuity,
  currentLsn,
  makeWal,
  SCRATCH_RECEIVER_ENV,
  SEGMENT_SIZE,
  type StartedReceiver,
  startReceiver,
  waitFor,
  walNames,
  walStoreOf,
  walTestHost,
  writeWalPolicy,
} from './receiver-harness.js';

const ENV = runEnvironment(SCRATCH_RECEIVER_ENV);

function dayAt(day: number): string {
  return `2026-03-0${day}T01:30:00Z`;
}

async function pgbackup(argv: readonly string[]) {
  const outcome = await startPgbackup(argv, ENV).outcome;
  expect(outcome.code, outcome.stderr).toBe(0);
  return outcome.stdout;
}

describe('WAL retention over simulated days (window 1d)', () => {
  let server: ScratchServer;
  let receiver: StartedReceiver | undefined;
  const parents: string[] = [];

  beforeAll(async () => {
    server = await startScratchPrimary(walTestHost(70));
  }, 120_000);

  afterAll(async () => {
    await receiver?.stop();
    await server?.stop();
    for (const parent of parents) await rm(parent, { recursive: true, force: true });
  }, 120_000);

  it('deletes the WAL before the window’s anchor, keeps the window continuous, and an older backup still restores', async () => {
    const policy = await writeWalPolicy({ hosts: [hostOf(server)], name: 'retention' });
    const document = parse(await readFile(policy.file, 'utf8'));
    document.spec.continuous.window = '1d';
    await writeFile(policy.file, stringify(document));
    const store = walStoreOf(policy);
    const started = startReceiver(policy);
    receiver = started;
    await waitFor(
      'Streaming',
      async () => (await started.status())?.state === 'Streaming',
      60_000,
      started,
    );

    // Four days: each writes WAL and marks its day, then takes the day's binary backup.
    const backups: { key: string; startLsn: bigint; startTimeline: number | undefined }[] = [];
    for (let day = 1; day <= 4; day += 1) {
      await withClient(server.client('postgres'), async (client) => {
        await client.query('CREATE TABLE IF NOT EXISTS days (day int)');
        await client.query('INSERT INTO days VALUES ($1)', [day]);
        await makeWal(client, 2);
      });
      const run = await runPgbackup(
        ['--type', 'binary', '--line', 'daily', '-f', policy.file, '--at', dayAt(day)],
        ENV,
      );
      expect(run.code, run.stderr).toBe(0);
      const key = /committed (\S+)/.exec(run.stdout)?.[1] ?? '';
      const manifest = JSON.parse(await readObjectText(`${key}manifest.json`));
      backups.push({
        key,
        startLsn: parseLsn(manifest.server.startLsn) ?? -1n,
        startTimeline: manifest.server.startTimeline,
      });
    }
    // Binary backups record the timeline they started on.
    expect(backups.map(({ startTimeline }) => startTimeline)).toEqual([1, 1, 1, 1]);
    const endLsn = await withClient(server.client('postgres'), async (client) => {
      await makeWal(client, 1);
      return currentLsn(client);
    });
    await waitFor(
      `the bucket reaching ${formatLsn(endLsn)}`,
      async () => ((await bucketContinuity(store)).newestLsn ?? 0n) >= endLsn,
      60_000,
      started,
    );
    const before = await walNames(store);
    const [day1, , day3] = backups;
    if (day1 === undefined || day3 === undefined) throw new Error('four backups expected');
    const anchorSegment = segmentOf(day3.startLsn, SEGMENT_SIZE);
    const older = before.filter((name) => {
      const file = parseWalFileName(name, SEGMENT_SIZE);
      return file?.kind === 'segment' && file.segment < anchorSegment;
    });
    // The receiver streamed since before day 1: WAL from before the anchor is there to prune.
    expect(older.length).toBeGreaterThanOrEqual(4);

    // No backup is older than the window on day 1: nothing goes.
    const early = await pgbackup(['wal-prune', '-f', policy.file, '--at', '2026-03-01T12:00:00Z']);
    expect(early).toMatch(/nothing deleted/);
    // A dry run names what would go and deletes nothing.
    const atDay4 = '2026-03-04T02:00:00Z';
    const dry = await pgbackup(['wal-prune', '-f', policy.file, '--at', atDay4, '--dry-run']);
    expect(dry).toContain(`anchor: ${day3.key}`);
    expect(dry).toContain(`would delete ${older.length} WAL objects`);
    expect(await walNames(store)).toEqual(expect.arrayContaining(older));

    // On day 4 at 02:00 the window begins on day 3 at 02:00: day 3's backup is the anchor.
    const pruned = await pgbackup(['wal-prune', '-f', policy.file, '--at', atDay4]);
    expect(pruned).toContain(`anchor: ${day3.key}`);
    // The receiver goes on storing the current segment meanwhile: compare what was there.
    const after = await walNames(store);
    expect(after.filter((name) => older.includes(name))).toEqual([]);
    expect(after).toEqual(
      expect.arrayContaining(
        before.filter((name) => !older.includes(name) && !name.endsWith('.partial')),
      ),
    );
    const continuity = await bucketContinuity(store);
    expect(continuity.gaps).toEqual([]);
    expect(continuity.ranges[0]?.fromLsn).toBeLessThanOrEqual(day3.startLsn);

    // wal-status: continuous from the newest backup, no gap anywhere in the bucket.
    const status = JSON.parse(await pgbackup(['wal-status', '-f', policy.file, '-o', 'json']));
    expect(status.gaps).toEqual([]);
    expect(status.fromNewestBackup.gaps).toEqual([]);
    expect(parseLsn(status.fromNewestBackup.reachableLsn)).toBeGreaterThanOrEqual(endLsn);
    const text = await pgbackup(['wal-status', '-f', policy.file]);
    expect(text).toMatch(/gaps: none/);
    console.log(`wal-status after wal-prune:\n${text}`);

    // Day 1's backup, whose WAL is gone from the bucket, restores with its own WAL.
    const parent = await restoreParentDir();
    parents.push(parent);
    await chmod(dirname(policy.file), 0o755);
    await chmod(policy.file, 0o644);
    const target = join(parent, 'day1');
    const restore = await runRestore(
      ['-f', policy.file, '--backup', day1.key, '--target-dir', target],
      parent,
    );
    expect(restore.code, restore.stderr).toBe(0);
    const restored = await startRestoredServer(target, walTestHost(71));
    try {
      const days = await withClient(restored.client('postgres'), (client) =>
        client.query<{ days: number[] }>('SELECT array_agg(day ORDER BY day) AS days FROM days'),
      );
      expect(days.rows[0]?.days).toEqual([1]);
    } finally {
      await restored.stop();
    }
  });
});
