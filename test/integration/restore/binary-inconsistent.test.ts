/**
 * A backup whose objects match manifest.json but whose files do not match the backup_manifest
 * pg_basebackup wrote (one byte of a catalog file changed before the upload, as it were): the
 * archive extracts, then pg_verifybackup fails, and the restore takes back every file it
 * extracted into the empty directory it was given.
 */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runPgbackup } from '../../harness/pgbackup-run.js';
import { DAMAGED_FILE, damageInsideArchive } from '../binary/damaged-archive.js';
import { listCommitted, listKeys, runArgs, writeTestPolicy } from '../binary/policy-file.js';
import {
  makeRestoreUserDir,
  restoreParentDir,
  runRestore,
  shareWithRestoreUser,
} from './restore-run.js';

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
