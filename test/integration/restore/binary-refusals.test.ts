/**
 * What `pgbackup restore --type binary` refuses, and what it takes back: root, a target that
 * is not empty, a line with no backup, and an object whose bytes differ from its manifest.
 * Whatever the failure, the target is as it was (absent, empty, or untouched with its files),
 * nothing is left in the work directory and nothing in the bucket changes.
 */
import { createHash } from 'node:crypto';
import { chmod, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postgresRunAs } from '../../harness/env/postgres.js';
import { runPgbackup } from '../../harness/pgbackup-run.js';
import { testBucket, testS3Client } from '../../harness/s3.js';
import {
  listCommitted,
  listKeys,
  readObjectText,
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

interface Manifest {
  objects: { name: string; sizeBytes: number; sha256: string }[];
}

async function readObject(key: string): Promise<Buffer> {
  const object = await testS3Client().send(
    new GetObjectCommand({ Bucket: testBucket(), Key: key }),
  );
  return Buffer.from((await object.Body?.transformToByteArray()) ?? []);
}

describe('pgbackup restore --type binary refuses and takes back', () => {
  const parents: string[] = [];
  let policy: TestPolicy;
  let key: string;

  async function parentDir(): Promise<string> {
    const dir = await restoreParentDir();
    parents.push(dir);
    return dir;
  }

  beforeAll(async () => {
    policy = await writeTestPolicy('daily.yaml');
    await shareWithRestoreUser(policy);
    const run = await runPgbackup(runArgs(policy, 'daily', '2026-03-02T02:00:00Z'));
    expect(run.code, run.stderr).toBe(0);
    const [committed] = await listCommitted(policy.binaryPrefix);
    if (committed === undefined) throw new Error('no backup committed');
    key = committed;
  });
  afterAll(async () => {
    for (const dir of parents) await rm(dir, { recursive: true, force: true });
  });

  it('refuses root, whose files PostgreSQL would not start on', async () => {
    const parent = await parentDir();
    const target = join(parent, 'data');

    const run = await runRestore(['-f', policy.file, '--target-dir', target], parent, {
      asRoot: true,
    });

    expect(run.code).toBe(1);
    expect(run.stderr).toContain(
      'pgbackup restore: refusing to restore as root: the restored files would belong to root, and PostgreSQL refuses to start as root',
    );
    expect(run.stderr).toContain('su postgres -c "pgbackup restore ..."');
    expect(run.leftInParent).toEqual([]);
  });

  it('refuses a target that is not empty before downloading anything, and leaves it untouched', async () => {
    const parent = await parentDir();
    const target = join(parent, 'data');
    await makeRestoreUserDir(target, 0o700);
    await writeFile(join(target, 'notes.txt'), 'keep me\n');

    const run = await runRestore(['-f', policy.file, '--target-dir', target], parent);

    expect(run.code).toBe(1);
    expect(run.stderr).toContain(
      `pgbackup restore: the target directory ${target} is not empty (it holds notes.txt); restore never writes over files: give a --target-dir that does not exist yet, or empty this one first if nothing in it is needed. Nothing was downloaded and ${target} was not touched`,
    );
    expect(await readdir(target)).toEqual(['notes.txt']);
    expect(await readFile(join(target, 'notes.txt'), 'utf8')).toBe('keep me\n');
    // No download directory was made beside it.
    expect(run.leftInParent).toEqual(['data']);
  });

  // Only root's tests have another user (postgres) to run the restore as.
  it.skipIf(postgresRunAs() === undefined)(
    "refuses a target, or a work directory, in a directory the restore's user cannot write, before downloading anything",
    async () => {
      const parent = await mkdtemp(join(tmpdir(), 'pgbackup-restore-root-owned-'));
      parents.push(parent);
      await chmod(parent, 0o755);
      const target = join(parent, 'data');

      const run = await runRestore(['-f', policy.file, '--target-dir', target], parent);

      expect(run.code).toBe(1);
      expect(run.stderr).toContain(
        `the target directory ${target} cannot be created: its parent ${parent} is not writable by the user running the restore`,
      );
      expect(run.leftInParent).toEqual([]);

      // An empty target of the user's own there: the download has no room beside it.
      await makeRestoreUserDir(target, 0o700);
      const intoEmpty = await runRestore(['-f', policy.file, '--target-dir', target], parent);

      expect(intoEmpty.code).toBe(1);
      expect(intoEmpty.stderr).toContain(
        `the work directory ${parent} is not writable by the user running the restore, who downloads the backup there (by default into the target's parent): point --work-dir at a directory that user may write`,
      );
      expect(await readdir(target)).toEqual([]);
    },
  );

  it('names the lines there are when the one asked for has no backup, creating nothing', async () => {
    const parent = await parentDir();
    const target = join(parent, 'data');

    const run = await runRestore(
      ['-f', policy.file, '--line', 'weekly', '--target-dir', target],
      parent,
    );

    expect(run.code).toBe(1);
    expect(run.stderr).toContain(
      `there is no committed backup of line weekly among the binary backups of BackupPolicy ${policy.namespace}/${policy.name} under ${policy.binaryPrefix}`,
    );
    expect(run.stderr).toContain('; there are backups of daily');
    expect(run.leftInParent).toEqual([]);
  });

  it('fails on an object whose bytes differ from the manifest, naming it and both SHA-256s, and leaves the target as it was', async () => {
    const manifestText = await readObjectText(`${key}manifest.json`);
    const manifest: Manifest = JSON.parse(manifestText);
    const [object] = manifest.objects;
    if (object === undefined) throw new Error('the manifest lists no object');
    const objectKey = `${key}${object.name}`;
    // Other bytes of the same length: only the SHA-256 tells them apart.
    const damaged = Buffer.from((await readObject(objectKey)).map((byte) => byte ^ 0x5a));
    await testS3Client().send(
      new PutObjectCommand({ Bucket: testBucket(), Key: objectKey, Body: damaged }),
    );
    const damagedSha256 = createHash('sha256').update(damaged).digest('hex');
    const keysBefore = await listKeys(policy.binaryPrefix);
    const mismatch = `object ${objectKey} does not match its manifest: SHA-256 ${damagedSha256} where the manifest says ${object.sha256} (${object.sizeBytes} bytes as recorded)`;

    const absentParent = await parentDir();
    const absent = join(absentParent, 'data');
    const intoAbsent = await runRestore(['-f', policy.file, '--target-dir', absent], absentParent);

    expect(intoAbsent.code).toBe(1);
    expect(intoAbsent.stderr).toContain(
      `pgbackup restore: could not restore ${key} into ${absent}: ${mismatch}`,
    );
    expect(intoAbsent.stderr).toContain(
      `${absent} was removed again (the restore had created it), the download directory was removed, and nothing in s3://${testBucket()}`,
    );
    expect(intoAbsent.leftInParent).toEqual([]);

    const emptyParent = await parentDir();
    const empty = join(emptyParent, 'data');
    await makeRestoreUserDir(empty, 0o700);
    const intoEmpty = await runRestore(['-f', policy.file, '--target-dir', empty], emptyParent);

    expect(intoEmpty.code).toBe(1);
    expect(intoEmpty.stderr).toContain(mismatch);
    expect(intoEmpty.stderr).toContain(`${empty} was emptied again (it was empty before)`);
    expect(intoEmpty.leftInParent).toEqual(['data']);
    expect(await readdir(empty)).toEqual([]);

    expect(await listKeys(policy.binaryPrefix)).toEqual(keysBefore);
    expect(await readObjectText(`${key}manifest.json`)).toBe(manifestText);
    expect((await readObject(objectKey)).equals(damaged)).toBe(true);
  });
});
