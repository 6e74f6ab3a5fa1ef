/**
 * The logical drill from a policy file (`pgbackup verify --type logical -f`): the newest
 * logical backup's databases restored into a throwaway server and compared with their dumps'
 * tables of contents. A good backup passes with the counts; a dump with an index that cannot
 * be restored (its expression calls a function that depends on search_path, which pg_dump
 * empties) fails, naming the database, the index and pg_restore's error.
 */
import { chmod } from 'node:fs/promises';
import { dirname } from 'node:path';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixtureText } from '../../harness/fixtures.js';
import { runPgbackup } from '../../harness/pgbackup-run.js';
import { superuserClient, withClient } from '../../harness/postgres.js';
import { testBucket, testS3Client } from '../../harness/s3.js';
import { uniqueSuffix } from '../../harness/variables.js';
import { listCommitted, readObjectText } from '../binary/policy-file.js';
import {
  type LogicalPolicy,
  logicalRunArgs,
  writeLogicalPolicy,
} from '../logical/logical-policy.js';
import {
  createSourceDatabases,
  databasesOf,
  dropSourceDatabases,
  type SourceDatabases,
  waitForReplica,
} from '../logical/source-databases.js';
import { runVerify } from './verify-run.js';

async function readObjectBytes(key: string): Promise<Buffer> {
  const object = await testS3Client().send(
    new GetObjectCommand({ Bucket: testBucket(), Key: key }),
  );
  return Buffer.from((await object.Body?.transformToByteArray()) ?? []);
}

describe('pgbackup verify --type logical -f POLICY.yaml', () => {
  let source: SourceDatabases;
  let shop: string;
  let policy: LogicalPolicy;

  beforeAll(async () => {
    source = await createSourceDatabases();
    shop = `shop_${uniqueSuffix()}`;
    await withClient(superuserClient('primary'), (client) =>
      client.query(`CREATE DATABASE ${client.escapeIdentifier(shop)}`),
    );
    await withClient(superuserClient('primary', shop), (client) =>
      client.query(fixtureText('verify/logical-shop.sql')),
    );
    policy = await writeLogicalPolicy([...databasesOf(source), shop]);
    // The drill runs as the postgres user, who must be able to read the policy file.
    await chmod(dirname(policy.file), 0o755);
  });
  afterAll(async () => {
    if (source !== undefined) await dropSourceDatabases(source);
    if (shop !== undefined) {
      await withClient(superuserClient('primary'), (client) =>
        client.query(`DROP DATABASE IF EXISTS ${client.escapeIdentifier(shop)} WITH (FORCE)`),
      );
    }
  });

  it('fails clearly when the policy has no logical backup yet', async () => {
    const run = await runVerify(['--type', 'logical', '-f', policy.file]);

    expect(run.code).toBe(1);
    expect(run.stderr).toContain(
      `no committed logical backup of BackupPolicy ${policy.namespace}/${policy.name} under ${policy.logicalPrefix}`,
    );
    expect(run.leftInWorkDir).toEqual([]);
  });

  it('passes a good backup, printing what each database restored', async () => {
    await waitForReplica();
    const backup = await runPgbackup(logicalRunArgs(policy, 'weekly', '2026-03-01T02:30:00Z'));
    expect(backup.code, backup.stderr).toBe(0);
    const [key] = await listCommitted(policy.logicalPrefix);

    const run = await runVerify(['--type', 'logical', '-f', policy.file]);

    expect(run.code, `${run.stdout}\n${run.stderr}`).toBe(0);
    expect(run.stdout).toContain(`Passed: ${key}`);
    expect(run.stdout).toMatch(/4 databases restored with pg_restore .* in \d+\.\d s/);
    expect(run.stdout).toContain(
      `database "${shop}": 1 schema, 2 tables, 1 view, 1 materialized view, 1 sequence, 1 index, 1 constraint, 1 foreign key, 1 trigger, 1 function restored as listed, 6234 rows in 2 tables as in the dump`,
    );
    for (const database of databasesOf(source)) {
      expect(run.stdout).toContain(`database "${database}": `);
    }
    expect(run.leftInWorkDir).toEqual([]);
  });

  it('fails a backup whose dump lists an index pg_restore cannot build and a table whose rows do not load, naming the database, the index, the table and the error', async () => {
    await withClient(superuserClient('primary', shop), (client) =>
      client.query(fixtureText('verify/search-path-trap.sql')),
    );
    await waitForReplica();
    const backup = await runPgbackup(logicalRunArgs(policy, 'weekly', '2026-03-08T02:30:00Z'));
    expect(backup.code, backup.stderr).toBe(0);
    const committed = await listCommitted(policy.logicalPrefix);
    const key = committed.find((each) => each.includes('20260308T'));

    const run = await runVerify(['--type', 'logical', '-f', policy.file]);

    expect(run.code, `${run.stdout}\n${run.stderr}`).toBe(1);
    expect(run.stdout).toContain(`Failed: ${key}`);
    expect(run.stdout).toContain('1 of 4 databases of the logical backup');
    expect(run.stdout).toContain(
      `database "${shop}" does not restore as its dump lists: index sales.orders_known (1 of 2 indexes listed) not restored`,
    );
    expect(run.stdout).toContain('table public.picks holds 0 rows where the dump has 3');
    expect(run.stdout).toContain('relation "known" does not exist');
    expect(run.stdout).toContain('Command was: CREATE INDEX orders_known');
    // The other databases restored.
    for (const database of databasesOf(source)) {
      expect(run.stdout).toContain(`database "${database}": `);
    }
    expect(run.leftInWorkDir).toEqual([]);
  });

  it('fails a backup whose dump differs from its manifest, naming the object, before restoring it', async () => {
    const committed = await listCommitted(policy.logicalPrefix);
    const key = committed.find((each) => each.includes('20260308T')) ?? '';
    const manifest: { objects: { name: string; sha256: string }[] } = JSON.parse(
      await readObjectText(`${key}manifest.json`),
    );
    const dump = manifest.objects.find((object) => object.name.startsWith('shop_'));
    if (dump === undefined) throw new Error('no dump of the shop database');
    const objectKey = `${key}${dump.name}`;
    const bytes = await readObjectBytes(objectKey);
    bytes[bytes.length - 10] = (bytes[bytes.length - 10] ?? 0) ^ 0xff;
    await testS3Client().send(
      new PutObjectCommand({ Bucket: testBucket(), Key: objectKey, Body: bytes }),
    );

    const run = await runVerify(['--type', 'logical', '-f', policy.file]);

    expect(run.code).toBe(1);
    expect(run.stdout).toContain(`Failed: ${key}`);
    expect(run.stdout).toContain(`object ${objectKey} does not match its manifest: SHA-256 `);
    expect(run.leftInWorkDir).toEqual([]);
  });
});
