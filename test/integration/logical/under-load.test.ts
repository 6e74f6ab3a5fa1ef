import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runPgbackup } from '../../harness/pgbackup-run.js';
import { startPgbenchLoad } from '../../harness/pgbench.js';
import { superuserClient, withClient } from '../../harness/postgres.js';
import { startScratchPrimary } from '../../harness/scratch-postgres.js';
import { requireEnv } from '../../harness/variables.js';
import { usePgbenchDatabases } from '../binary/pgbench-databases.js';
import { listCommitted } from '../binary/policy-file.js';
import { logicalRunArgs, writeLogicalPolicy } from './logical-policy.js';
import { downloadBackup, restoreBackup } from './restore-dump.js';

/** Transactions pgbench committed so far (each adds one history row). */
async function historyRows(database: string): Promise<number> {
  return withClient(superuserClient('primary', database), async (client) => {
    const result = await client.query<{ rows: number }>(
      'SELECT count(*)::int AS rows FROM pgbench_history',
    );
    return result.rows[0]?.rows ?? 0;
  });
}

describe('a logical backup while the primary writes continuously', () => {
  const pgbenchDatabase = usePgbenchDatabases();

  it('completes, from the replica, with a snapshot in which every pgbench transaction is whole', async () => {
    const database = await pgbenchDatabase(5);
    const policy = await writeLogicalPolicy([database]);
    const load = startPgbenchLoad(database, 300);
    let during: { before: number; after: number };
    try {
      const before = await historyRows(database);
      const run = await runPgbackup(logicalRunArgs(policy, 'weekly', '2026-03-01T02:30:00Z'));
      expect(run.code, run.stderr).toBe(0);
      during = { before, after: await historyRows(database) };
    } finally {
      load.kill('SIGINT');
    }
    expect(during.after).toBeGreaterThan(during.before);

    const [key] = await listCommitted(policy.logicalPrefix);
    const dir = await mkdtemp(join(tmpdir(), 'pgbackup-logical-load-'));
    const server = await startScratchPrimary('127.0.0.44');
    try {
      const manifest = await downloadBackup(key ?? '', dir);
      expect(manifest.server.host).toBe(requireEnv('PGBACKUP_REPLICA'));
      await restoreBackup(manifest, dir, server);
      const restored = await withClient(server.client(database), async (client) => {
        const result = await client.query<{ accounts: string; tellers: string; history: string }>(
          `SELECT (SELECT sum(abalance) FROM pgbench_accounts)::text AS accounts,
             (SELECT sum(tbalance) FROM pgbench_tellers)::text AS tellers,
             (SELECT coalesce(sum(delta), 0) FROM pgbench_history)::text AS history`,
        );
        return result.rows[0];
      });
      // A dump mid-transaction would show a delta in one table and not the others.
      expect(restored?.tellers).toBe(restored?.accounts);
      expect(restored?.history).toBe(restored?.accounts);
    } finally {
      await server.stop();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
