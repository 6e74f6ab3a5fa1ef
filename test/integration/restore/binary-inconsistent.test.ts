/**
 * A backup whose objects match manifest.json but whose files do not match the backup_manifest
 * pg_basebackup wrote (one byte of a catalog file changed before the upload, as it were): the
 * archive extracts, then pg_verifybackup fails, and the restore takes back every file it
 * extracted into the empty directory it was given.
 */
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, describe, expect, it } from 'vitest';
import { runTool } from '../../harness/env/processes.js';
import { runPgbackup } from '../../harness/pgbackup-run.js';
import { downloadObject } from '../../harness/restore.js';
import { testBucket, testS3Client } from '../../harness/s3.js';
import {
  listCommitted,
  listKeys,
  readObjectText,
  runArgs,
  writeTestPolicy,
} from '../binary/policy-file.js';
import {
  makeRestoreUserDir,
  restoreParentDir,
  runRestore,
  shareWithRestoreUser,
} from './restore-run.js';

/** A catalog file (pg_database) every backup holds. */
const DAMAGED_FILE = 'global/1262';

/** Rewrites the stored base.tar with one byte of DAMAGED_FILE changed, and manifest.json to match. */
async function damageInsideArchive(key: string, scratch: string): Promise<void> {
  const manifest = JSON.parse(await readObjectText(`${key}manifest.json`));
  const archive = join(scratch, 'base.tar');
  const data = join(scratch, 'data');
  await downloadObject(testS3Client(), { bucket: testBucket(), key: `${key}base.tar` }, archive);
  await mkdir(data);
  await runTool('tar', ['-xf', archive, '-C', data]);
  const file = await readFile(join(data, DAMAGED_FILE));
  file[100] = (file[100] ?? 0) ^ 0xff;
  await writeFile(join(data, DAMAGED_FILE), file);
  await runTool('tar', ['-cf', archive, '-C', data, '.']);
  const bytes = await readFile(archive);
  manifest.objects[0] = {
    name: 'base.tar',
    sizeBytes: bytes.length,
    sha256: createHash('sha256').update(bytes).digest('hex'),
  };
  for (const [name, body] of [
    ['base.tar', bytes],
    ['manifest.json', JSON.stringify(manifest, null, 2)],
  ] as const) {
    await testS3Client().send(
      new PutObjectCommand({ Bucket: testBucket(), Key: `${key}${name}`, Body: body }),
    );
  }
}

describe('pgbackup restore --type binary of a backup pg_verifybackup fails', () => {
  const scratch: string[] = [];
  afterAll(async () => {
    for (const dir of scratch) await rm(dir, { recursive: true, force: true });
  });

  it('names the file, and empties the directory it was given again', async () => {
    const policy = await writeTestPolicy('uncompressed.yaml');
    await shareWithRestoreUser(policy);
    const backup = await runPgbackup(runArgs(policy, 'daily', '2026-03-02T02:00:00Z'));
    expect(backup.code, backup.stderr).toBe(0);
    const [key] = await listCommitted(policy.binaryPrefix);
    if (key === undefined) throw new Error('no backup committed');
    const work = await mkdtemp(join(tmpdir(), 'pgbackup-restore-inconsistent-'));
    scratch.push(work);
    await damageInsideArchive(key, work);
    const keysBefore = await listKeys(policy.binaryPrefix);
    const parent = await restoreParentDir();
    scratch.push(parent);
    const target = join(parent, 'data');
    await makeRestoreUserDir(target, 0o700);

    const run = await runRestore(['-f', policy.file, '--target-dir', target], parent);

    expect(run.code).toBe(1);
    expect(run.stderr).toContain(
      `pgbackup restore: could not restore ${key} into ${target}: pg_verifybackup found the restored backup inconsistent with its backup_manifest`,
    );
    expect(run.stderr).toContain(`"${DAMAGED_FILE}"`);
    expect(run.stderr).toContain(`${target} was emptied again (it was empty before)`);
    expect(await readdir(target)).toEqual([]);
    expect(run.leftInParent).toEqual(['data']);
    expect(await listKeys(policy.binaryPrefix)).toEqual(keysBefore);
  });
});
