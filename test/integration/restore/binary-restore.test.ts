/**
 * `pgbackup restore` of binary backups the runner took: the restored directory starts as a
 * server whose tables equal the source's at the time of the backup, the backup is the one
 * asked for (the newest, a line's newest, a key), and the local volume's copy restores too.
 */
import { readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runPgbackup } from '../../harness/pgbackup-run.js';
import { createTestDatabase, superuserClient, withClient } from '../../harness/postgres.js';
import {
  fingerprintTables,
  startRestoredServer,
  type TableFingerprint,
} from '../../harness/restore.js';
import {
  dropTestDatabase,
  listCommitted,
  runArgs,
  type TestPolicy,
  writeTestPolicy,
} from '../binary/policy-file.js';
import {
  makeRestoreUserDir,
  restoreParentDir,
  runRestore,
  shareWithRestoreUser,
} from './restore-run.js';

/** The address restored servers listen on (a port of their own each). */
const RESTORED_HOST = '127.0.0.21';

type Fingerprints = Record<string, TableFingerprint>;

async function tablesOfRestored(dataDir: string, database: string): Promise<Fingerprints> {
  const server = await startRestoredServer(dataDir, RESTORED_HOST);
  try {
    return await withClient(server.client(database), fingerprintTables);
  } finally {
    await server.stop();
  }
}

/** The label pg_basebackup gave the backup, as the restored backup_label says. */
async function labelOf(dataDir: string): Promise<string> {
  const text = await readFile(join(dataDir, 'backup_label'), 'utf8');
  return /^LABEL: (.*)$/m.exec(text)?.[1] ?? '';
}

function idOf(key: string): string {
  return /-([0-9a-f]+)\/$/.exec(key)?.[1] ?? '';
}

describe('pgbackup restore --type binary', () => {
  const parents: string[] = [];
  let policy: TestPolicy;
  let database: string;
  let daily: { key: string; tables: Fingerprints };
  let weekly: { key: string; tables: Fingerprints };

  async function parentDir(): Promise<string> {
    const dir = await restoreParentDir();
    parents.push(dir);
    return dir;
  }

  async function backUp(line: string, at: string) {
    const before = new Set(await listCommitted(policy.binaryPrefix));
    const tables = await withClient(superuserClient('primary', database), fingerprintTables);
    const run = await runPgbackup(runArgs(policy, line, at));
    expect(run.code, run.stderr).toBe(0);
    const key = (await listCommitted(policy.binaryPrefix)).find((each) => !before.has(each));
    if (key === undefined) throw new Error(`the ${line} run committed no backup`);
    return { key, tables };
  }

  beforeAll(async () => {
    policy = await writeTestPolicy('with-local-copy.yaml');
    await shareWithRestoreUser(policy);
    database = await createTestDatabase();
    await withClient(superuserClient('primary', database), (client) =>
      client.query(
        "CREATE TABLE orders (id int PRIMARY KEY, note text); INSERT INTO orders SELECT n, md5(n::text) FROM generate_series(1, 5000) n; CREATE TABLE customers (id int PRIMARY KEY, name text); INSERT INTO customers VALUES (1, 'Ada'), (2, 'Grace')",
      ),
    );
    daily = await backUp('daily', '2026-03-02T02:00:00Z');
    await withClient(superuserClient('primary', database), (client) =>
      client.query(
        "INSERT INTO orders SELECT n, md5(n::text) FROM generate_series(5001, 7000) n; UPDATE customers SET name = 'Grace Hopper' WHERE id = 2",
      ),
    );
    weekly = await backUp('weekly', '2026-03-01T02:00:00Z');
  });
  afterAll(async () => {
    await dropTestDatabase(database);
    for (const dir of parents) await rm(dir, { recursive: true, force: true });
  });

  it('restores the newest backup into a new directory, and a server started on it has every table of the source', async () => {
    expect(weekly.tables).not.toEqual(daily.tables);
    const parent = await parentDir();
    const target = join(parent, 'data');

    const run = await runRestore(['-f', policy.file, '--target-dir', target], parent);

    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain(`Restored ${weekly.key}\n`);
    expect(run.stdout).toContain('  line        weekly\n');
    expect(run.stdout).toContain(`  into        ${target} (created, mode 0700)\n`);
    expect(run.stdout).toContain(
      'Every object matched the manifest (size and SHA-256), and pg_verifybackup passed.',
    );
    expect(run.stdout).toContain(`pg_ctl -D ${target} -l ${target}.log start`);
    expect(run.stdout).toContain('crash recovery from backup_label');
    // The download directory is gone; the target alone is left.
    expect(run.leftInParent).toEqual(['data']);
    expect((await stat(target)).mode & 0o777).toBe(0o700);
    // Logs are JSON on stderr, and no secret is printed anywhere.
    for (const line of run.stderr.trim().split('\n')) expect(() => JSON.parse(line)).not.toThrow();
    for (const secret of [process.env.PGPASSWORD, process.env.AWS_SECRET_ACCESS_KEY]) {
      expect(secret).toBeTruthy();
      expect(`${run.stdout}${run.stderr}`).not.toContain(secret);
    }

    expect(await tablesOfRestored(target, database)).toEqual(weekly.tables);
  });

  it("restores a line's newest with --line", async () => {
    const parent = await parentDir();
    const target = join(parent, 'data');

    const run = await runRestore(
      ['-f', policy.file, '--line', 'daily', '--target-dir', target],
      parent,
    );

    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain(`Restored ${daily.key}\n`);
    expect(await tablesOfRestored(target, database)).toEqual(daily.tables);
  });

  it('restores the backup --backup names into an empty directory given', async () => {
    const parent = await parentDir();
    const target = join(parent, 'data');
    await makeRestoreUserDir(target, 0o755);

    const run = await runRestore(
      ['-f', policy.file, '--backup', daily.key.slice(0, -1), '--target-dir', target],
      parent,
    );

    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain(`Restored ${daily.key}\n`);
    expect(run.stdout).toContain(
      `  into        ${target} (the empty directory given; its mode was 0755, now 0700, as PostgreSQL requires)\n`,
    );
    expect(await labelOf(target)).toBe(
      `pgbackup ${policy.namespace}/${policy.name} daily ${idOf(daily.key)}`,
    );
    expect(run.leftInParent).toEqual(['data']);
  });

  it("restores the local volume's copy with --local-dir", async () => {
    const parent = await parentDir();
    const target = join(parent, 'data');

    const run = await runRestore(
      ['-f', policy.file, '--local-dir', policy.localDir, '--target-dir', target],
      parent,
    );

    // The policy copies its daily backups only: the volume's newest is the daily one, where
    // the bucket's is the weekly.
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain(`Restored ${daily.key}\n`);
    expect(run.stdout).toContain(`  from        local volume ${policy.localDir}\n`);
    expect(await tablesOfRestored(target, database)).toEqual(daily.tables);
  });
});
