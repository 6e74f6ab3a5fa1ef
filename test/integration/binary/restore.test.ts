import { createHash } from 'node:crypto';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runPgbackup } from '../../harness/pgbackup-run.js';
import { superuserClient, withClient } from '../../harness/postgres.js';
import {
  downloadObject,
  fingerprintTables,
  startRestoredServer,
  unpackAndVerify,
} from '../../harness/restore.js';
import { testBucket, testS3Client } from '../../harness/s3.js';
import { usePgbenchDatabases } from './pgbench-databases.js';
import { listCommitted, readObjectText, runArgs, writeTestPolicy } from './policy-file.js';

interface Manifest {
  line: string;
  slot: number;
  slotLabel: string;
  objects: { name: string; sizeBytes: number; sha256: string }[];
  server: { startLsn?: string; stopLsn?: string; versionNumber: number };
}

async function sha256Of(path: string): Promise<string> {
  return createHash('sha256')
    .update(await readFile(path))
    .digest('hex');
}

async function restoreAndFingerprint(archive: string, name: string, database: string) {
  const dataDir = await unpackAndVerify(archive, name);
  try {
    const server = await startRestoredServer(dataDir, '127.0.0.20');
    try {
      return await withClient(server.client(database), fingerprintTables);
    } finally {
      await server.stop();
    }
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
}

describe('a binary backup', () => {
  const pgbenchDatabase = usePgbenchDatabases();

  it('restores with stock tools only, remote and local copy alike, every table equal to the source', async () => {
    const database = await pgbenchDatabase(5);
    const source = await withClient(superuserClient('primary', database), fingerprintTables);
    expect(source['public.pgbench_accounts']?.rows).toBe(500_000);
    const policy = await writeTestPolicy('with-local-copy.yaml');

    const run = await runPgbackup(runArgs(policy, 'daily', '2026-03-02T02:00:00Z'));

    expect(run.code, run.stderr).toBe(0);
    const [key, ...others] = await listCommitted(policy.binaryPrefix);
    expect(others).toEqual([]);
    if (key === undefined) throw new Error('no backup committed');
    expect(key).toMatch(/\/binary\/daily\/\d\/20260302T020000Z-[0-9a-f]{8}\/$/);
    const manifest: Manifest = JSON.parse(await readObjectText(`${key}manifest.json`));
    expect(manifest).toMatchObject({ line: 'daily', slotLabel: 'mon' });
    expect(manifest.server.startLsn).toMatch(/^[0-9A-F]+\/[0-9A-F]+$/);
    const [object] = manifest.objects;
    if (object === undefined) throw new Error('the manifest lists no object');
    expect(object.name).toBe('base.tar.lz4');

    const remote = join(policy.localDir, '..', object.name);
    await downloadObject(
      testS3Client(),
      { bucket: testBucket(), key: `${key}${object.name}` },
      remote,
    );
    const local = join(policy.localDir, key, object.name);
    expect(await sha256Of(remote)).toBe(object.sha256);
    expect(await sha256Of(local)).toBe(object.sha256);

    expect(await restoreAndFingerprint(remote, object.name, database)).toEqual(source);
    expect(await restoreAndFingerprint(local, object.name, database)).toEqual(source);
  });
});
