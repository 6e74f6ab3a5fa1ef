import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../../harness/env/layout.js';
import { runTool } from '../../harness/env/processes.js';
import { runPgbackup } from '../../harness/pgbackup-run.js';
import {
  createTestDatabase,
  serverAddress,
  superuserClient,
  withClient,
} from '../../harness/postgres.js';
import { fingerprintTables, type TableFingerprint } from '../../harness/restore.js';
import { testBucket } from '../../harness/s3.js';
import { requireEnv, uniqueSuffix } from '../../harness/variables.js';
import { dropTestDatabase, listCommitted } from '../binary/policy-file.js';
import { type LogicalPolicy, logicalRunArgs, writeLogicalPolicy } from './logical-policy.js';
import { libpqEnvironment, psqlFixture, waitForReplica } from './source-databases.js';

/** The commands of the README's "Restore one table from a logical backup", word for word. */
async function readmeRestoreCommands(): Promise<string> {
  const readme = await readFile(join(repoRoot, 'README.md'), 'utf8');
  const section = readme.split('\n## Restore one table from a logical backup\n')[1];
  const block = /```bash\n([\s\S]*?)\n```/.exec(section?.split('\n## ')[0] ?? '')?.[1];
  if (block === undefined) throw new Error('README.md has no restore section with a bash block');
  return block;
}

async function ordersOf(database: string): Promise<TableFingerprint | undefined> {
  return withClient(superuserClient('primary', database), async (client) => {
    return (await fingerprintTables(client))['public.orders'];
  });
}

async function query<R>(database: string, text: string): Promise<R | undefined> {
  return withClient(superuserClient('primary', database), async (client) => {
    return (await client.query(text)).rows[0] as R | undefined;
  });
}

async function insertOrders(database: string, count: number): Promise<void> {
  await query(
    database,
    `INSERT INTO orders (customer_id, amount) SELECT 1 + n % 50, n + 0.25 FROM generate_series(1, ${count}) AS n`,
  );
}

describe("the README's restore of one table from a logical backup", () => {
  let database: string;
  let reader: string;
  let policy: LogicalPolicy;
  let atLatestBackup: TableFingerprint | undefined;

  beforeAll(async () => {
    database = await createTestDatabase();
    reader = `shop_reader_${uniqueSuffix()}`;
    await query('postgres', `CREATE ROLE "${reader}" NOLOGIN`);
    await psqlFixture(database, 'shop.sql', { reader });
    policy = await writeLogicalPolicy([database]);
    // Two weekly backups with different contents; then writes the backups do not have.
    await waitForReplica();
    const older = await runPgbackup(logicalRunArgs(policy, 'weekly', '2026-03-01T02:30:00Z'));
    expect(older.code, older.stderr).toBe(0);
    await insertOrders(database, 40);
    atLatestBackup = await ordersOf(database);
    await waitForReplica();
    const latest = await runPgbackup(logicalRunArgs(policy, 'weekly', '2026-03-08T02:30:00Z'));
    expect(latest.code, latest.stderr).toBe(0);
    expect(await listCommitted(`${policy.logicalPrefix}weekly/`)).toHaveLength(2);
    await insertOrders(database, 3);
    await query(database, 'DROP TABLE orders');
  });

  afterAll(async () => {
    if (database !== undefined) await dropTestDatabase(database);
    if (reader !== undefined) await query('postgres', `DROP ROLE IF EXISTS "${reader}"`);
  });

  it('brings the dropped table back as the latest weekly backup had it, indexes, grants and sequence included', async () => {
    const output = await runTool(
      'bash',
      ['-euo', 'pipefail', '-c', await readmeRestoreCommands()],
      {
        env: {
          ...libpqEnvironment(serverAddress('primary')),
          PATH: `${requireEnv('PGBACKUP_PG_BIN')}:${process.env.PATH ?? ''}`,
          BACKUPS: `s3://${testBucket()}/${policy.logicalPrefix.slice(0, -1)}`,
          DATABASE: database,
          TABLE: 'public.orders',
          AWS_ENDPOINT_URL: requireEnv('PGBACKUP_S3_ENDPOINT'),
          ...Object.fromEntries(
            ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_REGION', 'AWS_CA_BUNDLE'].flatMap(
              (name) => (process.env[name] === undefined ? [] : [[name, process.env[name]]]),
            ),
          ),
        },
      },
    );
    expect(output).toMatch(
      /restoring public\.orders from s3:\/\/.*\/weekly\/\d+\/20260308T023000Z-/,
    );
    expect(atLatestBackup?.rows).toBe(540);
    expect(await ordersOf(database)).toEqual(atLatestBackup);
    const restored = await query<{ indexes: number; readable: boolean; next: number }>(
      database,
      `SELECT (SELECT count(*)::int FROM pg_indexes WHERE tablename = 'orders') AS indexes,
         has_table_privilege('${reader}', 'orders', 'SELECT') AS readable,
         nextval('orders_id_seq')::int AS next`,
    );
    expect(restored).toMatchObject({ indexes: 2, readable: true });
    // Past every restored id: a replica sees a sequence up to 32 values ahead (the primary logs
    // them in advance), so a dump from it leaves a gap, never a duplicate.
    expect(restored?.next).toBeGreaterThan(540);
    expect(restored?.next).toBeLessThanOrEqual(541 + 32);
    const leftovers = await query<{ count: number }>(
      'postgres',
      `SELECT count(*)::int AS count FROM pg_database WHERE datname = '${database}_restore'`,
    );
    expect(leftovers?.count).toBe(0);
  });
});
