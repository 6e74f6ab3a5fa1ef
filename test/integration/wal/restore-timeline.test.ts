/**
 * A restore across a failover, from the bucket alone: a binary backup taken on timeline 1, the
 * replica promoted mid-stream, writes on timeline 2; the backup recovered with `pgbackup
 * wal-fetch` follows the history file onto timeline 2 and holds the rows of both timelines.
 * `wal-status` shows the path 1 → 2 with no gap.
 */
import { rm } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatLsn } from '../../../src/retention/wal-names.js';
import { runEnvironment, runPgbackup, startPgbackup } from '../../harness/pgbackup-run.js';
import { withClient } from '../../harness/postgres.js';
import { hostOf, type ScratchPair, startScratchPair } from '../logical/scratch-pair.js';
import {
  bucketContinuity,
  currentLsn,
  makeWal,
  SCRATCH_RECEIVER_ENV,
  type StartedReceiver,
  startReceiver,
  waitFor,
  walNames,
  walStoreOf,
  walTestHost,
  writeWalPolicy,
} from './receiver-harness.js';
import { type RecoveredServer, recoverFromBucket } from './recover-from-bucket.js';

const ENV = runEnvironment(SCRATCH_RECEIVER_ENV);

describe('a restore from the bucket across a failover', () => {
  let pair: ScratchPair;
  let receiver: StartedReceiver | undefined;
  let recovered: RecoveredServer | undefined;

  beforeAll(async () => {
    pair = await startScratchPair({ primary: walTestHost(74), replica: walTestHost(75) });
  }, 180_000);

  afterAll(async () => {
    await recovered?.server.stop();
    if (recovered !== undefined) await rm(recovered.parent, { recursive: true, force: true });
    await receiver?.stop();
    await pair?.stop();
  }, 120_000);

  it('replays timeline 1 from the backup on, then timeline 2 through its history file', async () => {
    const policy = await writeWalPolicy({
      hosts: [hostOf(pair.primary), hostOf(pair.replica)],
      name: 'restore-timeline',
    });
    const store = walStoreOf(policy);
    const started = startReceiver(policy);
    receiver = started;
    await waitFor(
      'Streaming',
      async () => (await started.status())?.state === 'Streaming',
      60_000,
      started,
    );
    await withClient(pair.primary.client('postgres'), (client) =>
      client.query('CREATE TABLE phases (phase text)'),
    );
    const backup = await runPgbackup(
      ['--type', 'binary', '--line', 'daily', '-f', policy.file, '--at', '2026-03-01T01:30:00Z'],
      ENV,
    );
    expect(backup.code, backup.stderr).toBe(0);
    const beforeLsn = await withClient(pair.primary.client('postgres'), async (client) => {
      await client.query("INSERT INTO phases VALUES ('timeline 1')");
      await makeWal(client, 1);
      return currentLsn(client);
    });
    await waitFor(
      `the replica and the bucket at ${formatLsn(beforeLsn)}`,
      async () => {
        const replayed = await withClient(pair.replica.client('postgres'), async (client) => {
          const result = await client.query<{ caught: boolean }>(
            'SELECT pg_last_wal_replay_lsn() >= $1::pg_lsn AS caught',
            [formatLsn(beforeLsn)],
          );
          return result.rows[0]?.caught === true;
        });
        return replayed && ((await bucketContinuity(store)).newestLsn ?? 0n) >= beforeLsn;
      },
      60_000,
      started,
    );

    await pair.primary.stop();
    await withClient(pair.replica.client('postgres'), (client) =>
      client.query('SELECT pg_promote(true, 60)'),
    );
    const afterLsn = await withClient(pair.replica.client('postgres'), async (client) => {
      await client.query("INSERT INTO phases VALUES ('timeline 2')");
      await makeWal(client, 1);
      // The last row lands in the unfinished segment: recovery reads it from the partial.
      await client.query("INSERT INTO phases VALUES ('timeline 2, in the partial')");
      return currentLsn(client);
    });
    await waitFor(
      `the bucket at ${formatLsn(afterLsn)} on timeline 2`,
      async () => {
        const continuity = await bucketContinuity(store);
        return continuity.newestTimeline === 2 && (continuity.newestLsn ?? 0n) >= afterLsn;
      },
      60_000,
      started,
    );
    const stopped = await started.stop();
    receiver = undefined;
    expect(stopped.code, stopped.stderr).toBe(0);
    expect(await walNames(store)).toContain('00000002.history');

    const status = await startPgbackup(['wal-status', '-f', policy.file, '-o', 'json'], ENV)
      .outcome;
    expect(status.code, status.stderr).toBe(0);
    const report = JSON.parse(status.stdout);
    expect(report.timelines.map((stretch: { timeline: number }) => stretch.timeline)).toEqual([
      1, 2,
    ]);
    expect(report.gaps).toEqual([]);
    expect(report.fromNewestBackup.gaps).toEqual([]);

    recovered = await recoverFromBucket(policy, walTestHost(76));
    const phases = await withClient(recovered.server.client('postgres'), async (client) => {
      const result = await client.query<{ phase: string }>('SELECT phase FROM phases ORDER BY 1');
      return result.rows.map((row) => row.phase);
    });
    const fetched = await recovered.fetchLog();
    expect(phases, fetched).toEqual(['timeline 1', 'timeline 2', 'timeline 2, in the partial']);
    expect(fetched).toContain('00000003.history is not in the bucket');
  }, 300_000);
});
