/**
 * Failover mid-stream: the primary stopped and its replica promoted. The receiver finds the new
 * primary, makes its slot there, follows pg_receivewal onto timeline 2 (the history file
 * fetched and stored) and the bucket's WAL stays continuous across the switch.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatLsn } from '../../../src/retention/wal-names.js';
import { withClient } from '../../harness/postgres.js';
import { hostOf, type ScratchPair, startScratchPair } from '../logical/scratch-pair.js';
import {
  bucketContinuity,
  currentLsn,
  makeWal,
  type StartedReceiver,
  startReceiver,
  waitFor,
  waitStreaming,
  walNames,
  walStoreOf,
  walTestHost,
  writeWalPolicy,
} from './receiver-harness.js';

describe('the WAL receiver across a failover', () => {
  let pair: ScratchPair;
  let receiver: StartedReceiver | undefined;

  beforeAll(async () => {
    pair = await startScratchPair({ primary: walTestHost(62), replica: walTestHost(63) });
  }, 180_000);

  afterAll(async () => {
    await receiver?.stop();
    await pair?.stop();
  }, 120_000);

  it('streams timeline 2 from the promoted replica within 30 s, continuous across the switch', async () => {
    const policy = await writeWalPolicy({
      hosts: [hostOf(pair.primary), hostOf(pair.replica)],
      name: 'failover',
    });
    const store = walStoreOf(policy);
    const started = startReceiver(policy);
    receiver = started;
    await waitStreaming(started);
    const beforeLsn = await withClient(pair.primary.client('postgres'), async (client) => {
      await makeWal(client, 2);
      await client.query("INSERT INTO wal_filler (payload) VALUES ('before the failover')");
      return currentLsn(client);
    });
    await waitFor(
      `the bucket reaching ${formatLsn(beforeLsn)} on timeline 1`,
      async () => ((await bucketContinuity(store)).newestLsn ?? 0n) >= beforeLsn,
      30_000,
      started,
    );
    await waitFor(
      'the replica to replay the primary',
      () =>
        withClient(pair.replica.client('postgres'), async (client) => {
          const result = await client.query<{ caught: boolean }>(
            'SELECT pg_last_wal_replay_lsn() >= $1::pg_lsn AS caught',
            [formatLsn(beforeLsn)],
          );
          return result.rows[0]?.caught === true;
        }),
      30_000,
    );
    await pair.primary.stop();
    await withClient(pair.replica.client('postgres'), (client) =>
      client.query('SELECT pg_promote(true, 60)'),
    );
    const promotedAtMs = Date.now();
    await waitFor(
      'timeline 2 streamed and its history file stored',
      async () => {
        const status = await started.status();
        return status?.timeline === 2 && (await walNames(store)).includes('00000002.history');
      },
      30_000,
      started,
    );
    console.log(
      `wal-receive: streaming timeline 2 ${Date.now() - promotedAtMs} ms after the promotion`,
    );
    const afterLsn = await withClient(pair.replica.client('postgres'), async (client) => {
      await makeWal(client, 1);
      await client.query("INSERT INTO wal_filler (payload) VALUES ('after the failover')");
      return currentLsn(client);
    });
    const continuity = await waitFor(
      `the bucket reaching ${formatLsn(afterLsn)} on timeline 2`,
      async () => {
        const seen = await bucketContinuity(store);
        return (seen.newestLsn ?? 0n) >= afterLsn ? seen : undefined;
      },
      30_000,
      started,
    );
    expect(continuity.newestTimeline).toBe(2);
    expect(continuity.path.map((stretch) => stretch.timeline)).toEqual([1, 2]);
    expect(continuity.gaps).toEqual([]);
    expect(continuity.ranges).toHaveLength(1);
    const status = await started.status();
    expect(status?.state).toBe('Streaming');
  }, 240_000);
});
