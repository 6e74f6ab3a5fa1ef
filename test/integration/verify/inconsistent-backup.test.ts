/**
 * A backup whose stored objects match manifest.json but whose files do not match the
 * backup_manifest pg_basebackup wrote: the drill's pg_verifybackup step must fail it. The
 * archive is rewritten with one byte of a catalog file changed, and manifest.json updated to
 * the new archive, as if the damage had happened before the upload.
 */
import { createHash } from 'node:crypto';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, describe, expect, it } from 'vitest';
import { runTool } from '../../harness/env/processes.js';
import { runPgbackup } from '../../harness/pgbackup-run.js';
import { downloadObject } from '../../harness/restore.js';
import { testBucket, testS3Client } from '../../harness/s3.js';
import { listCommitted, readObjectText, runArgs, writeTestPolicy } from '../binary/policy-file.js';
import { runVerify } from './verify-run.js';

/** A catalog file (pg_database) every backup holds. */
const DAMAGED_FILE = 'global/1262';

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
    const manifest = JSON.parse(await readObjectText(`${key}manifest.json`));
    const dir = await mkdtemp(join(tmpdir(), 'pgbackup-verify-inconsistent-'));
    scratch.push(dir);
    const archive = join(dir, 'base.tar');
    const data = join(dir, 'data');
    await downloadObject(testS3Client(), { bucket: testBucket(), key: `${key}base.tar` }, archive);
    await runTool('mkdir', [data]);
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
