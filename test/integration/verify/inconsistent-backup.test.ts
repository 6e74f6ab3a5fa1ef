/**
 * A backup whose stored objects match manifest.json but whose files do not match the
 * backup_manifest pg_basebackup wrote (see damaged-archive.ts): the drill's pg_verifybackup
 * step must fail it.
 */
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runPgbackup } from '../../harness/pgbackup-run.js';
import { DAMAGED_FILE, damageInsideArchive } from '../binary/damaged-archive.js';
import { listCommitted, runArgs, writeTestPolicy } from '../binary/policy-file.js';
import { runVerify } from './verify-run.js';

describe('pgbackup verify of a backup inconsistent with its backup_manifest', () => {
  const scratch: string[] = [];
  afterAll(async () => {
    for (const dir of scratch) await rm(dir, { recursive: true, force: true });
  });

  it('fails on pg_verifybackup, naming the file', async () => {
    const policy = await writeTestPolicy('uncompressed.yaml');
    await chmod(dirname(policy.file), 0o755);
    const backup = await runPgbackup(runArgs(policy, 'daily', '2026-03-02T02:00:00Z'));
    expect(backup.code, backup.stderr).toBe(0);
    const [key] = await listCommitted(policy.binaryPrefix);
    if (key === undefined) throw new Error('no backup committed');
    const dir = await mkdtemp(join(tmpdir(), 'pgbackup-verify-inconsistent-'));
    scratch.push(dir);
    await damageInsideArchive(key, dir);

    const run = await runVerify(['-f', policy.file]);

    expect(run.code).toBe(1);
    expect(run.stdout).toContain(`Failed: ${key}`);
    expect(run.stdout).toContain(
      'pg_verifybackup found the restored backup inconsistent with its backup_manifest',
    );
    expect(run.stdout).toContain(`"${DAMAGED_FILE}"`);
    expect(run.leftInWorkDir).toEqual([]);
  });
});
