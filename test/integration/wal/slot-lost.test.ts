/**
 * The slot invalidated: a primary with a small max_slot_wal_keep_size writes on while the
 * receiver is stopped, and a checkpoint removes WAL the slot held. The receiver, started again,
 * says SlotLost, drops and makes the slot, streams from it and reports the missing range as a
 * Gap; a binary backup that starts after the gap clears it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { walSlotNameOf } from '../../../src/postgres/index.js';
import { formatLsn, parseLsn, segmentStartLsn } from '../../../src/retention/wal-names.js';
import { runEnvironment, startPgbackup } from '../../harness/pgbackup-run.js';
import { withClient } from '../../harness/postgres.js';
import { type ScratchServer, startScratchPrimary } from '../../harness/scratch-postgres.js';
import { hostOf } from '../logical/scratch-pair.js';
import {
  currentLsn,
  loggedStates,
  makeWal,
  SCRATCH_RECEIVER_ENV,
  SEGMENT_SIZE,
  type StartedReceiver,
  startReceiver,
  waitFor,
  waitStreaming,
  walTestHost,
  writeWalPolicy,
} from './receiver-harness.js';

describe('the WAL receiver after its slot was invalidated', () => {
  let server: ScratchServer;
  let receiver: StartedReceiver | undefined;

  beforeAll(async () => {
    server = await startScratchPrimary(walTestHost(64), [
      'max_slot_wal_keep_size=32MB',
      'wal_keep_size=0',
      'min_wal_size=32MB',
      'max_wal_size=64MB',
    ]);
  }, 120_000);

  afterAll(async () => {
    await receiver?.stop();
    await server?.stop();
  }, 120_000);

  it('reports SlotLost, then a Gap with the missing range, streams again, and a backup clears it', async () => {
    const policy = await writeWalPolicy({ hosts: [hostOf(server)], name: 'slot-lost' });
    const slot = walSlotNameOf(policy.namespace, policy.name);
    const first = startReceiver(policy);
    await waitStreaming(first);
    await withClient(server.client('postgres'), (client) => makeWal(client, 1));
    const stopped = await first.stop();
    expect(stopped.code, stopped.stderr.slice(-3000)).toBe(0);
    const bucketEnd = parseLsn((await first.status())?.lastArchived?.lsn ?? '');
    if (bucketEnd === undefined) throw new Error('the first receiver archived nothing');
    // With no receiver, the primary writes past max_slot_wal_keep_size and checkpoints.
    await withClient(server.client('postgres'), async (client) => {
      await makeWal(client, 5);
      await waitFor(
        `slot ${slot} invalidated`,
        async () => {
          await client.query('CHECKPOINT');
          const result = await client.query<{ wal_status: string }>(
            'SELECT wal_status FROM pg_replication_slots WHERE slot_name = $1',
            [slot],
          );
          return result.rows[0]?.wal_status === 'lost';
        },
        30_000,
      );
    });
    const second = startReceiver(policy);
    receiver = second;
    const gapStatus = await waitFor(
      'the Gap state',
      async () => {
        const status = await second.status();
        return status?.state === 'Gap' ? status : undefined;
      },
      60_000,
      second,
    );
    const gap = gapStatus.gap;
    expect(gap?.timeline).toBe(1);
    expect(gap?.fromLsn).toBe(formatLsn(bucketEnd));
    const toLsn = parseLsn(gap?.toLsn ?? '') ?? 0n;
    expect(toLsn).toBeGreaterThan(bucketEnd);
    expect(toLsn % BigInt(SEGMENT_SIZE)).toBe(0n);
    expect(gapStatus.message).toMatch(/is missing from the bucket/);
    // It streams again, from the new slot.
    const after = await withClient(server.client('postgres'), async (client) => {
      await makeWal(client, 1);
      return currentLsn(client);
    });
    await waitFor(
      'the bucket to follow the primary again',
      async () =>
        (parseLsn((await second.status())?.lastArchived?.lsn ?? '') ?? 0n) >=
        segmentStartLsn(after / BigInt(SEGMENT_SIZE), SEGMENT_SIZE),
      30_000,
      second,
    );
    expect((await second.status())?.slot?.walStatus).toBe('reserved');
    // A binary backup that starts after the gap makes it harmless: the receiver clears it.
    const backup = await startPgbackup(
      ['backup', '-f', policy.file, '--type', 'binary'],
      runEnvironment(SCRATCH_RECEIVER_ENV),
    ).outcome;
    expect(backup.code, backup.stderr).toBe(0);
    await waitFor(
      'Streaming after the backup',
      async () => {
        const status = await second.status();
        return status?.state === 'Streaming' && status.gap === undefined;
      },
      90_000,
      second,
    );
    const outcome = await second.stop();
    receiver = undefined;
    const states = loggedStates(outcome.stderr);
    const lost = states.indexOf('SlotLost');
    expect(lost, states.join(' → ')).toBeGreaterThanOrEqual(0);
    expect(states.indexOf('Gap', lost), states.join(' → ')).toBeGreaterThan(lost);
    expect(states.lastIndexOf('Streaming')).toBeGreaterThan(states.indexOf('Gap'));
  }, 300_000);
});
