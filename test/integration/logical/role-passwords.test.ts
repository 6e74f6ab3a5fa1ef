import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runEnvironment, runPgbackup } from '../../harness/pgbackup-run.js';
import { createTestDatabase, superuserClient, withClient } from '../../harness/postgres.js';
import { uniqueSuffix } from '../../harness/variables.js';
import { dropTestDatabase, listCommitted } from '../binary/policy-file.js';
import { logicalRunArgs, writeLogicalPolicy } from './logical-policy.js';
import { downloadBackup } from './restore-dump.js';
import { waitForReplica } from './source-databases.js';

// A role that may read the database's tables but not pg_authid, where role passwords are
// kept (pg_read_all_data would include pg_authid): a backup role as a cautious administrator
// grants it.
describe('a logical backup as a role that cannot read role passwords', () => {
  const role = `dumper_${uniqueSuffix()}`;
  const password = `dumper-password-${uniqueSuffix()}`;
  let database: string;

  beforeAll(async () => {
    database = await createTestDatabase();
    await withClient(superuserClient('primary'), (client) =>
      client.query(`CREATE ROLE "${role}" LOGIN PASSWORD '${password}'`),
    );
    await withClient(superuserClient('primary', database), async (client) => {
      await client.query('CREATE TABLE notes AS SELECT n FROM generate_series(1, 10) AS n');
      await client.query(`GRANT SELECT ON notes TO "${role}"`);
    });
    await waitForReplica();
  });

  afterAll(async () => {
    if (database !== undefined) await dropTestDatabase(database);
    await withClient(superuserClient('primary'), (client) =>
      client.query(`DROP ROLE IF EXISTS "${role}"`),
    );
  });

  it('dumps the globals without passwords, says so, and never prints the password', async () => {
    const policy = await writeLogicalPolicy([database]);
    const run = await runPgbackup(
      logicalRunArgs(policy, 'weekly', '2026-03-01T02:30:00Z'),
      runEnvironment({ PGUSER: role, PGPASSWORD: password }),
    );

    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toContain(
      'the role cannot read pg_authid: the globals are dumped without role passwords',
    );
    expect(run.stdout + run.stderr).not.toContain(password);
    const [key] = await listCommitted(policy.logicalPrefix);
    const dir = await mkdtemp(join(tmpdir(), 'pgbackup-logical-roles-'));
    try {
      await downloadBackup(key ?? '', dir);
      const globals = await readFile(join(dir, 'globals.sql'), 'utf8');
      expect(globals).toContain(`CREATE ROLE ${role};`);
      expect(globals).not.toMatch(/PASSWORD '/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
