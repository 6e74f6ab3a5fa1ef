/**
 * The receiver applies WAL retention itself (wal/prune-wal, hourly and once the bucket is
 * read at start): with a window of one second, the WAL before the newest binary backup goes,
 * and what follows that backup's start stays continuous.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseLsn, parseWalFileName, segmentOf } from '../../../src/retention/wal-names.js';
import { runEnvironment, startPgbackup } from '../../harness/pgbackup-run.js';
import { withClient } from '../../harness/postgres.js';
import { testS3Store } from '../../harness/s3.js';
import { type ScratchServer, startScratchPrimary } from '../../harness/scratch-postgres.js';
import { hostOf } from '../logical/scratch-pair.js';
import {
  bucketContinuity,
  makeWal,
  SCRATCH_RECEIVER_ENV,
  SEGMENT_SIZE,
  startReceiver,
  type WalPolicy,
  waitFor,
  waitStreaming,
  walNames,
  walStoreOf,
  walTestHost,
  writeWalPolicy,
} from './receiver-harness.js';

async function takeBackup(policy: WalPolicy): Promise<void> {
  const backup = await startPgbackup(
    ['backup', '-f', policy.file, '--type', 'binary'],
    runEnvironment(SCRATCH_RECEIVER_ENV),
  ).outcome;
  expect(backup.code, backup.stderr).toBe(0);
}

describe('the WAL receiver applies WAL retention', () => {
  let server: ScratchServer;

  beforeAll(async () => {
    server = await startScratchPrimary(walTestHost(66));
  }, 120_000);

  afterAll(async () => {
    await server?.stop();
  }, 60_000);

  it('deletes the WAL before the window’s anchor backup and keeps the rest continuous', async () => {
    const policy = await writeWalPolicy({ hosts: [hostOf(server)], name: 'prune', window: '1s' });
    const store = walStoreOf(policy);
    const first = startReceiver(policy);
    await waitStreaming(first);
    await withClient(server.client('postgres'), (client) => makeWal(client, 2));
    await takeBackup(policy);
    await withClient(server.client('postgres'), (client) => makeWal(client, 2));
    await takeBackup(policy);
    await withClient(server.client('postgres'), (client) => makeWal(client, 1));
    const stopped = await first.stop();
    expect(stopped.code, stopped.stderr.slice(-2000)).toBe(0);
    const before = await walNames(store);
    const backups = await testS3Store().listBackups(
      `${policy.prefix}/${policy.namespace}/${policy.name}/binary/`,
    );
    const starts = backups.map(({ manifest }) => parseLsn(manifest.server.startLsn ?? '') ?? 0n);
    const anchorStart = starts.sort((a, b) => (a < b ? -1 : 1)).at(-1) ?? 0n;
    const anchorSegment = segmentOf(anchorStart, SEGMENT_SIZE);
    const older = before.filter((name) => {
      const file = parseWalFileName(name, SEGMENT_SIZE);
      return file?.kind === 'segment' && file.segment < anchorSegment;
    });
    expect(older.length).toBeGreaterThan(0);
    // A new receiver reads the bucket and prunes at once.
    const second = startReceiver(policy);
    try {
      await waitFor(
        'the WAL before the anchor deleted',
        async () => {
          const names = await walNames(store);
          return older.every((name) => !names.includes(name));
        },
        60_000,
        second,
      );
      const continuity = await bucketContinuity(store);
      expect(continuity.gaps).toEqual([]);
      expect(continuity.ranges[0]?.fromLsn).toBeLessThanOrEqual(anchorStart);
      expect(await walNames(store)).toEqual(
        expect.arrayContaining(
          before.filter((name) => !older.includes(name) && !name.endsWith('.partial')),
        ),
      );
    } finally {
      await second.stop();
    }
  }, 240_000);
});
