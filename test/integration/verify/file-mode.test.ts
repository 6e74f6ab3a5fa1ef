import { createHash } from 'node:crypto';
import { chmod } from 'node:fs/promises';
import { dirname } from 'node:path';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runPgbackup } from '../../harness/pgbackup-run.js';
import { createTestDatabase, superuserClient, withClient } from '../../harness/postgres.js';
import { testBucket, testS3Client } from '../../harness/s3.js';
import {
  dropTestDatabase,
  listCommitted,
  listKeys,
  readObjectText,
  runArgs,
  type TestPolicy,
  writeTestPolicy,
} from '../binary/policy-file.js';
import { runVerify } from './verify-run.js';

interface Manifest {
  objects: { name: string; sizeBytes: number; sha256: string }[];
}

async function readObject(key: string): Promise<Buffer> {
  const object = await testS3Client().send(
    new GetObjectCommand({ Bucket: testBucket(), Key: key }),
  );
  return Buffer.from((await object.Body?.transformToByteArray()) ?? []);
}

describe('pgbackup verify -f POLICY.yaml', () => {
  let policy: TestPolicy;
  let database: string;

  beforeAll(async () => {
    policy = await writeTestPolicy('daily.yaml');
    // The drill runs as the postgres user, who must be able to read the policy file.
    await chmod(dirname(policy.file), 0o755);
    database = await createTestDatabase();
    await withClient(superuserClient('primary', database), (client) =>
      client.query(
        'CREATE TABLE orders (id int PRIMARY KEY, note text); INSERT INTO orders SELECT n, md5(n::text) FROM generate_series(1, 5000) n',
      ),
    );
  });
  afterAll(async () => {
    await dropTestDatabase(database);
  });

  it('fails clearly when the policy has no binary backup yet', async () => {
    const run = await runVerify(['-f', policy.file]);

    expect(run.code).toBe(1);
    expect(run.stderr).toContain(
      `no committed binary backup of BackupPolicy ${policy.namespace}/${policy.name} under ${policy.binaryPrefix}`,
    );
    expect(run.stderr).toContain('take one first');
    expect(run.leftInWorkDir).toEqual([]);
  });

  it('refuses to run as root, which PostgreSQL refuses too', async () => {
    const run = await runVerify(['-f', policy.file], { asRoot: true });

    expect(run.code).toBe(1);
    expect(run.stderr).toContain('PostgreSQL refuses to start as root');
  });

  it('passes a backup the runner took: objects, pg_verifybackup, recovery and pg_amcheck', async () => {
    const backup = await runPgbackup(runArgs(policy, 'daily', '2026-03-02T02:00:00Z'));
    expect(backup.code, backup.stderr).toBe(0);
    const [key] = await listCommitted(policy.binaryPrefix);

    const run = await runVerify(['-f', policy.file]);

    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain(`Passed: ${key}`);
    expect(run.stdout).toContain('its objects match the manifest, pg_verifybackup passed');
    // pg_amcheck ran over every database, this test's table and its primary key among them.
    const checked =
      /pg_amcheck checked (\d+) tables? and (\d+) index(?:es)? in (\d+) databases?/.exec(
        run.stdout,
      );
    expect(checked, run.stdout).not.toBeNull();
    expect(Number(checked?.[1])).toBeGreaterThan(0);
    expect(Number(checked?.[2])).toBeGreaterThan(0);
    expect(Number(checked?.[3])).toBeGreaterThanOrEqual(2);
    expect(run.leftInWorkDir).toEqual([]);
  });

  it('fails a backup whose data object lost a byte, naming the object and both checksums, and deletes nothing', async () => {
    const [key] = await listCommitted(policy.binaryPrefix);
    const manifest: Manifest = JSON.parse(await readObjectText(`${key}manifest.json`));
    const [object] = manifest.objects;
    if (key === undefined || object === undefined) throw new Error('no backup to damage');
    const objectKey = `${key}${object.name}`;
    const bytes = await readObject(objectKey);
    const middle = Math.floor(bytes.length / 2);
    bytes[middle] = (bytes[middle] ?? 0) ^ 0xff;
    await testS3Client().send(
      new PutObjectCommand({ Bucket: testBucket(), Key: objectKey, Body: bytes }),
    );
    const damagedSha256 = createHash('sha256').update(bytes).digest('hex');
    const keysBefore = await listKeys(policy.binaryPrefix);

    const run = await runVerify(['-f', policy.file]);

    expect(run.code).toBe(1);
    expect(run.stdout).toContain(`Failed: ${key}`);
    expect(run.stdout).toContain(
      `object ${objectKey} does not match its manifest: SHA-256 ${damagedSha256} where the manifest says ${object.sha256}`,
    );
    expect(await listKeys(policy.binaryPrefix)).toEqual(keysBefore);
    expect(run.leftInWorkDir).toEqual([]);
  });
});
