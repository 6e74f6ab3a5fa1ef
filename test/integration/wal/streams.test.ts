/**
 * The WAL receiver against a real PostgreSQL 15 primary and MinIO: under pgbench it stores each
 * completed segment, the unfinished one as `.partial` with its end LSN, the SHA-256 of the
 * stored bytes in metadata; every compression decompresses to exactly the server's segment.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { walSlotNameOf } from '../../../src/postgres/index.js';
import {
  formatLsn,
  parseLsn,
  segmentFileName,
  segmentOf,
  segmentStartLsn,
} from '../../../src/retention/wal-names.js';
import type { WalStore } from '../../../src/storage/index.js';
import { runTool } from '../../harness/env/processes.js';
import { type ScratchServer, startScratchPrimary } from '../../harness/scratch-postgres.js';
import { requireEnv } from '../../harness/variables.js';
import { hostOf } from '../logical/scratch-pair.js';
import {
  bucketContinuity,
  currentLsn,
  makeWal,
  peakRssBytes,
  readWalObject,
  SEGMENT_SIZE,
  type StartedReceiver,
  startReceiver,
  waitFor,
  waitStreaming,
  walNames,
  walStoreOf,
  walTestHost,
  writeWalPolicy,
} from './receiver-harness.js';

const COMPRESSIONS = ['zstd', 'gzip', 'lz4', 'none'] as const;
const SUFFIX = { zstd: '.zst', gzip: '.gz', lz4: '.lz4', none: '' } as const;

/** pgbench -i at scale 5, then 20 s of its TPC-B-like load with 4 clients. */
async function loadWithPgbench(server: ScratchServer): Promise<void> {
  const bin = join(requireEnv('PGBACKUP_PG_BIN'), 'pgbench');
  const where = ['-h', server.host, '-p', String(server.port), 'postgres'];
  const env = { PGUSER: requireEnv('PGUSER'), PGPASSWORD: requireEnv('PGPASSWORD') };
  await runTool(bin, ['-i', '-q', '-s', '5', ...where], { env });
  await runTool(bin, ['-c', '4', '-j', '2', '-T', '20', ...where], { env });
}

describe('the WAL receiver streams a primary into the bucket', () => {
  let server: ScratchServer;
  const receivers: StartedReceiver[] = [];

  beforeAll(async () => {
    server = await startScratchPrimary(walTestHost(60));
  }, 120_000);

  afterAll(async () => {
    await Promise.all(receivers.map((receiver) => receiver.stop()));
    await server?.stop();
  }, 120_000);

  it('stores completed segments and partials, each compression decompressing to the server bytes', async () => {
    const policies = await Promise.all(
      COMPRESSIONS.map((compression) =>
        writeWalPolicy({ hosts: [hostOf(server)], compression, name: `streams-${compression}` }),
      ),
    );
    for (const policy of policies) receivers.push(startReceiver(policy));
    for (const receiver of receivers) await waitStreaming(receiver);
    await loadWithPgbench(server);
    const client = server.client('postgres');
    await client.connect();
    try {
      await makeWal(client, 2);
      const lastCompleted = segmentOf(await currentLsn(client), SEGMENT_SIZE) - 1n;
      const wanted = [lastCompleted - 2n, lastCompleted - 1n, lastCompleted];
      const stores = policies.map(walStoreOf);
      for (const [index, store] of stores.entries()) {
        await expectCompletedSegments(store, wanted, index);
      }
      // The unfinished segment: a `.partial` whose end-lsn reaches a commit made after it.
      await client.query("INSERT INTO wal_filler (payload) VALUES ('after the switch')");
      const committed = await currentLsn(client);
      for (const [index, store] of stores.entries()) {
        await expectPartial(store, committed, index);
      }
      const status = await receivers[0]?.status();
      expect(status?.slot?.walStatus).toBe('reserved');
      expect(status?.lastArchived?.file).toMatch(/^[0-9A-F]{24}\.zst(\.partial)?$/);
      for (const [index, receiver] of receivers.entries()) {
        const peak = (await peakRssBytes(receiver.child.pid ?? 0)) ?? 0;
        console.log(
          `wal-receive (${COMPRESSIONS[index]}) peak RSS under pgbench: ${(peak / 1024 / 1024).toFixed(1)} MiB`,
        );
        expect(peak).toBeLessThan(250 * 1024 * 1024);
      }
    } finally {
      await client.end();
    }
  }, 240_000);

  /** The receiver `index` stored `segments`, each the server's exact bytes, its SHA-256 right. */
  async function expectCompletedSegments(
    store: WalStore,
    segments: readonly bigint[],
    index: number,
  ): Promise<void> {
    const compression = COMPRESSIONS[index] ?? 'none';
    const names = segments.map((segment) => segmentFileName(1, segment, SEGMENT_SIZE));
    await waitFor(
      `${compression}: ${names.join(', ')}`,
      async () => {
        const stored = await walNames(store);
        return names.every((name) => stored.includes(`${name}${SUFFIX[compression]}`));
      },
      60_000,
      receivers[index],
    );
    for (const name of names) {
      const serverBytes = await readFile(join(server.dir, 'data', 'pg_wal', name));
      const object = await readWalObject(store, `${name}${SUFFIX[compression]}`);
      expect(object.sha256Matches, `${compression} ${name}: sha256 metadata`).toBe(true);
      expect(object.bytes.equals(serverBytes), `${compression} ${name}: bytes`).toBe(true);
      if (compression !== 'none') expect(object.stored.length).toBeLessThan(SEGMENT_SIZE);
    }
  }

  /** The receiver `index` stored the unfinished segment up to `committed` at least. */
  async function expectPartial(store: WalStore, committed: bigint, index: number): Promise<void> {
    const compression = COMPRESSIONS[index] ?? 'none';
    const segment = segmentOf(committed, SEGMENT_SIZE);
    const segmentName = segmentFileName(1, segment, SEGMENT_SIZE);
    const name = `${segmentName}${SUFFIX[compression]}.partial`;
    const endLsn = await waitFor(
      `${name} reaching ${formatLsn(committed)}`,
      async () => {
        const end = parseLsn((await store.head(name))?.endLsn ?? '');
        return end !== undefined && end >= committed ? end : undefined;
      },
      30_000,
      receivers[index],
    );
    const object = await readWalObject(store, name);
    expect(object.sha256Matches).toBe(true);
    expect(object.bytes.length).toBe(SEGMENT_SIZE);
    const realBytes = Number(endLsn - segmentStartLsn(segment, SEGMENT_SIZE));
    const serverBytes = await readFile(join(server.dir, 'data', 'pg_wal', segmentName));
    expect(object.bytes.subarray(0, realBytes).equals(serverBytes.subarray(0, realBytes))).toBe(
      true,
    );
    const continuity = await bucketContinuity(store);
    expect(continuity.gaps).toEqual([]);
    expect(continuity.newestLsn).toBeGreaterThanOrEqual(committed);
  }

  it('drains the spool and exits 0 on SIGTERM', async () => {
    // An upload interval of an hour: only the stop's drain can store the newest WAL.
    const policy = await writeWalPolicy({
      hosts: [hostOf(server)],
      uploadInterval: '1h',
      name: 'streams-sigterm',
    });
    const receiver = startReceiver(policy);
    receivers.push(receiver);
    await waitStreaming(receiver);
    const client = server.client('postgres');
    await client.connect();
    try {
      await makeWal(client, 1);
      await client.query("INSERT INTO wal_filler (payload) VALUES ('just before the stop')");
      const committed = await currentLsn(client);
      const slot = walSlotNameOf(policy.namespace, policy.name);
      // Durable on the spool: the slot moved past the commit (pg_receivewal --synchronous).
      await waitFor(
        'the slot to pass the commit',
        async () => {
          const result = await client.query<{ lsn: string | null }>(
            'SELECT restart_lsn::text AS lsn FROM pg_replication_slots WHERE slot_name = $1',
            [slot],
          );
          return (parseLsn(result.rows[0]?.lsn ?? '') ?? 0n) >= committed;
        },
        30_000,
        receiver,
      );
      const outcome = await receiver.stop();
      expect(outcome.code, outcome.stderr.slice(-3000)).toBe(0);
      expect(outcome.stdout).toMatch(/^stopped; 0 bytes of WAL left on the spool/m);
      const status = await receiver.status();
      expect(parseLsn(status?.lastArchived?.lsn ?? '')).toBeGreaterThanOrEqual(committed);
      expect(status?.spoolBytes).toBe(0);
      const continuity = await bucketContinuity(walStoreOf(policy));
      expect(continuity.gaps).toEqual([]);
      expect(continuity.newestLsn).toBeGreaterThanOrEqual(committed);
    } finally {
      await client.end();
    }
  }, 120_000);
});
