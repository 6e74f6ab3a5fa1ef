import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { runPgbackup } from '../../harness/pgbackup-run.js';
import { startPgbenchLoad } from '../../harness/pgbench.js';
import { superuserClient, withClient } from '../../harness/postgres.js';
import { downloadObject, startRestoredServer, unpackAndVerify } from '../../harness/restore.js';
import { testBucket, testS3Client } from '../../harness/s3.js';
import { usePgbenchDatabases } from './pgbench-databases.js';
import { listCommitted, readObjectText, runArgs, writeTestPolicy } from './policy-file.js';

const SEGMENT_BYTES = 16n * 1024n * 1024n;

function segmentOf(lsn: string): bigint {
  const [high = '0', low = '0'] = lsn.split('/');
  return ((BigInt(`0x${high}`) << 32n) | BigInt(`0x${low}`)) / SEGMENT_BYTES;
}

/** Forces WAL switches and checkpoints until `stop` is set, as a busy server recycles WAL. */
async function churnWal(stop: { done: boolean }): Promise<number> {
  let rounds = 0;
  await withClient(superuserClient('primary'), async (client) => {
    while (!stop.done) {
      await client.query('SELECT pg_switch_wal()');
      await client.query('CHECKPOINT');
      rounds += 1;
      await sleep(100);
    }
  });
  return rounds;
}

/** pgbench's invariant: every transaction adds the same delta to all four tables. */
const BALANCES = `SELECT
  (SELECT sum(abalance) FROM pgbench_accounts)::text AS accounts,
  (SELECT sum(bbalance) FROM pgbench_branches)::text AS branches,
  (SELECT sum(tbalance) FROM pgbench_tellers)::text AS tellers,
  (SELECT coalesce(sum(delta), 0) FROM pgbench_history)::text AS history,
  (SELECT count(*) FROM pgbench_history)::int AS transactions`;

describe('a binary backup under write load', () => {
  const pgbenchDatabase = usePgbenchDatabases();

  it('restores to a consistent state while pgbench writes and WAL is switched and checkpointed', async () => {
    const database = await pgbenchDatabase(5);
    const policy = await writeTestPolicy('uncompressed.yaml');
    const load = startPgbenchLoad(database, 120);
    const stop = { done: false };
    const churn = churnWal(stop);
    try {
      await sleep(1_000);
      const run = await runPgbackup(runArgs(policy, 'daily', '2026-03-02T01:30:00Z'));
      expect(run.code, run.stderr).toBe(0);
    } finally {
      stop.done = true;
      load.kill('SIGINT');
    }
    expect(await churn).toBeGreaterThan(3);

    const [key] = await listCommitted(policy.binaryPrefix);
    if (key === undefined) throw new Error('no backup committed');
    const manifest = JSON.parse(await readObjectText(`${key}manifest.json`));
    // WAL moved on by whole segments during the backup: what -X fetch copies had to be kept.
    expect(segmentOf(manifest.server.stopLsn)).toBeGreaterThan(segmentOf(manifest.server.startLsn));
    const archive = join(policy.localDir, '..', 'base.tar');
    await downloadObject(testS3Client(), { bucket: testBucket(), key: `${key}base.tar` }, archive);
    const dataDir = await unpackAndVerify(archive, 'base.tar');
    try {
      const server = await startRestoredServer(dataDir, '127.0.0.21');
      try {
        const balances = await withClient(server.client(database), async (client) => {
          return (await client.query(BALANCES)).rows[0];
        });
        expect(balances.transactions).toBeGreaterThan(0);
        expect(balances.branches).toBe(balances.accounts);
        expect(balances.tellers).toBe(balances.accounts);
        expect(balances.history).toBe(balances.accounts);
      } finally {
        await server.stop();
      }
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
