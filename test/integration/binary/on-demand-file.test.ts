/**
 * `pgbackup backup -f POLICY.yaml`: an on-demand backup outside a cluster, taken on the
 * runner's path with no line. It is listed (line `on-demand`), restores like any other, and a
 * line's rotation never prunes it.
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runEnvironment, runPgbackup, startPgbackup } from '../../harness/pgbackup-run.js';
import {
  createTestDatabase,
  serverAddress,
  superuserClient,
  withClient,
} from '../../harness/postgres.js';
import {
  fingerprintTables,
  startRestoredServer,
  type TableFingerprint,
} from '../../harness/restore.js';
import { runList } from '../list/list-run.js';
import { writeLogicalPolicy } from '../logical/logical-policy.js';
import { restoreParentDir, runRestore, shareWithRestoreUser } from '../restore/restore-run.js';
import {
  dropTestDatabase,
  listCommitted,
  readObjectText,
  runArgs,
  type TestPolicy,
  writeTestPolicy,
} from './policy-file.js';

/** The address the restored server listens on (a port of its own). */
const RESTORED_HOST = '127.0.0.22';

function backupCommand(args: readonly string[]) {
  return startPgbackup(['backup', ...args], runEnvironment()).outcome;
}

describe('pgbackup backup -f (on demand, outside a cluster)', () => {
  let policy: TestPolicy;
  let database: string;
  let parent: string;
  let onDemand: { key: string; tables: Record<string, TableFingerprint> };

  beforeAll(async () => {
    // One daily slot: the second daily run must prune the first.
    policy = await writeTestPolicy('daily.yaml', (document) => {
      document.spec.binary = { ...(document.spec.binary as object), lines: { daily: 1 } };
    });
    await shareWithRestoreUser(policy);
    parent = await restoreParentDir();
    database = await createTestDatabase();
    await withClient(superuserClient('primary', database), (client) =>
      client.query(
        'CREATE TABLE orders (id int PRIMARY KEY, note text); INSERT INTO orders SELECT n, md5(n::text) FROM generate_series(1, 3000) n',
      ),
    );
    const tables = await withClient(superuserClient('primary', database), fingerprintTables);
    const run = await backupCommand(['-f', policy.file, '--type', 'binary']);
    expect(run.code, run.stderr).toBe(0);
    const key = /^committed (\S+) \(on demand\)\n$/.exec(run.stdout)?.[1];
    if (key === undefined) throw new Error(`backup -f printed no on-demand key: ${run.stdout}`);
    onDemand = { key, tables };
    // Later changes, so a restore of another backup would show.
    await withClient(superuserClient('primary', database), (client) =>
      client.query('DELETE FROM orders WHERE id > 1000'),
    );
  });
  afterAll(async () => {
    await dropTestDatabase(database);
    await rm(parent, { recursive: true, force: true });
  });

  it('commits a backup of no line, whose manifest says on-demand', async () => {
    expect(onDemand.key.startsWith(`${policy.binaryPrefix}on-demand/`)).toBe(true);
    expect(await listCommitted(policy.binaryPrefix)).toEqual([onDemand.key]);
    const manifest = JSON.parse(await readObjectText(`${onDemand.key}manifest.json`));
    expect(manifest).toMatchObject({ line: '', slot: 0, slotLabel: 'on-demand' });
  });

  it('is never pruned by the rotation of a line, which prunes that line’s own backups', async () => {
    const first = await runPgbackup(runArgs(policy, 'daily', '2026-03-02T01:30:00Z'));
    expect(first.code, first.stderr).toBe(0);
    const firstKey = /committed (\S+)/.exec(first.stdout)?.[1] ?? '';
    const second = await runPgbackup(runArgs(policy, 'daily', '2026-03-03T01:30:00Z'));
    expect(second.code, second.stderr).toBe(0);
    const secondKey = /committed (\S+)/.exec(second.stdout)?.[1] ?? '';
    // The second daily took the one slot and deleted the first; the on-demand backup stayed.
    expect(second.stdout).toContain(`deleted ${firstKey}`);
    expect(await listCommitted(policy.binaryPrefix)).toEqual([onDemand.key, secondKey].sort());
  });

  it('is listed with the line on-demand', async () => {
    const list = await runList(['-f', policy.file, '--output', 'json']);
    expect(list.code, list.stderr).toBe(0);
    const rows = JSON.parse(list.stdout) as { key: string; line: string; slot: unknown }[];
    expect(rows.find((row) => row.key === onDemand.key)).toMatchObject({
      line: 'on-demand',
      slot: null,
    });
  });

  it('restores (restore --line on-demand) to the tables of its time', async () => {
    const target = join(parent, 'data');
    const run = await runRestore(
      ['-f', policy.file, '--line', 'on-demand', '--target-dir', target],
      parent,
    );
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain(`Restored ${onDemand.key}\n`);
    const server = await startRestoredServer(target, RESTORED_HOST);
    try {
      const tables = await withClient(server.client(database), fingerprintTables);
      expect(tables).toEqual(onDemand.tables);
    } finally {
      await server.stop();
    }
  });

  it('refuses a type the policy does not take, taking nothing', async () => {
    const run = await backupCommand(['-f', policy.file, '--type', 'logical']);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(
      'the policy does not take logical backups (spec.logical.enabled is false); no backup was taken',
    );
  });
});

describe('pgbackup backup -f --type logical', () => {
  it('dumps on demand, and restore --line on-demand restores that dump', async () => {
    const database = await createTestDatabase();
    const copy = `${database}_copy`;
    try {
      await withClient(superuserClient('primary', database), (client) =>
        client.query(
          'CREATE TABLE items (id int PRIMARY KEY); INSERT INTO items SELECT generate_series(1, 250)',
        ),
      );
      const policy = await writeLogicalPolicy([database]);
      const run = await backupCommand(['-f', policy.file, '--type', 'logical']);
      expect(run.code, run.stderr).toBe(0);
      const key = /^committed (\S+) \(on demand\)\n$/.exec(run.stdout)?.[1] ?? '';
      expect(key.startsWith(`${policy.logicalPrefix}on-demand/`)).toBe(true);

      const primary = serverAddress('primary');
      const env = runEnvironment({ PGHOST: primary.host, PGPORT: String(primary.port) });
      const argv = ['restore', '-f', policy.file, '--type', 'logical', '--line', 'on-demand'];
      const restore = await startPgbackup([...argv, '--database', database, '--into', copy], env)
        .outcome;
      expect(restore.code, restore.stderr).toBe(0);
      const rows = await withClient(superuserClient('primary', copy), (client) =>
        client.query<{ count: string }>('SELECT count(*) FROM items'),
      );
      expect(rows.rows[0]?.count).toBe('250');
    } finally {
      await dropTestDatabase(database);
      await dropTestDatabase(copy);
    }
  });
});
