import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runTool } from '../../harness/env/processes.js';
import { runPgbackup } from '../../harness/pgbackup-run.js';
import { superuserClient, withClient } from '../../harness/postgres.js';
import {
  downloadObject,
  fingerprintTables,
  startRestoredServer,
  unpackAndVerify,
} from '../../harness/restore.js';
import { testBucket, testS3Client } from '../../harness/s3.js';
import { requireEnv } from '../../harness/variables.js';
import { logicalRunArgs, writeLogicalPolicy } from '../logical/logical-policy.js';
import { waitForReplica } from '../logical/source-databases.js';
import { usePgbenchDatabases } from './pgbench-databases.js';
import {
  listCommitted,
  listKeys,
  readObjectText,
  runArgs,
  writeTestPolicy,
} from './policy-file.js';

interface Manifest {
  compression: string;
  compressionSettings?: { level?: number; workers?: number };
  objects: { name: string }[];
}

async function onlyCommittedManifest(prefix: string): Promise<{ key: string; manifest: Manifest }> {
  const [key, ...others] = await listCommitted(prefix);
  expect(others).toEqual([]);
  if (key === undefined) throw new Error(`no backup committed under ${prefix}`);
  return { key, manifest: JSON.parse(await readObjectText(`${key}manifest.json`)) as Manifest };
}

async function download(key: string, name: string, dir: string): Promise<string> {
  const path = join(dir, name);
  await downloadObject(testS3Client(), { bucket: testBucket(), key: `${key}${name}` }, path);
  return path;
}

describe('compression settings', () => {
  const pgbenchDatabase = usePgbenchDatabases();

  it('a binary backup at zstd level 9 with 2 workers passes pg_verifybackup and restores every table', async () => {
    const database = await pgbenchDatabase(5);
    const source = await withClient(superuserClient('primary', database), fingerprintTables);
    const policy = await writeTestPolicy('daily.yaml', (document) => {
      Object.assign(document.spec.binary as object, { compressionLevel: 9, compressionWorkers: 2 });
    });

    const run = await runPgbackup(runArgs(policy, 'daily', '2026-03-02T02:00:00Z'));

    expect(run.code, run.stderr).toBe(0);
    const { key, manifest } = await onlyCommittedManifest(policy.binaryPrefix);
    expect(manifest.compression).toBe('zstd');
    expect(manifest.compressionSettings).toEqual({ level: 9, workers: 2 });
    expect(manifest.objects.map((object) => object.name)).toEqual(['base.tar.zst']);
    const archive = await download(key, 'base.tar.zst', join(policy.localDir, '..'));
    const dataDir = await unpackAndVerify(archive, 'base.tar.zst');
    try {
      const server = await startRestoredServer(dataDir, '127.0.0.21');
      try {
        expect(await withClient(server.client(database), fingerprintTables)).toEqual(source);
      } finally {
        await server.stop();
      }
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  it("a logical backup's gzip level reaches pg_dump: the archive's header says it", async () => {
    const database = await pgbenchDatabase(1);
    await waitForReplica();
    const policy = await writeLogicalPolicy([database], (document) => {
      Object.assign(document.spec.logical as object, { compressionLevel: 1 });
    });

    const run = await runPgbackup(logicalRunArgs(policy, 'weekly', '2026-03-01T02:00:00Z'));

    expect(run.code, run.stderr).toBe(0);
    const { key, manifest } = await onlyCommittedManifest(policy.logicalPrefix);
    expect(manifest.compression).toBe('pg_dump custom format (gzip)');
    expect(manifest.compressionSettings).toEqual({ level: 1 });
    const dump = await download(key, `${database}.dump`, join(policy.localDir, '..'));
    const listing = await runTool(join(requireEnv('PGBACKUP_PG_BIN'), 'pg_restore'), [
      '--list',
      dump,
    ]);
    expect(listing).toMatch(/^;\s+Compression: 1$/m);
  });

  it('a logical backup asking for zstd of the PostgreSQL 15 pg_dump is refused before any dump, naming the field and the fix', async () => {
    const database = await pgbenchDatabase(1);
    await waitForReplica();
    const policy = await writeLogicalPolicy([database], (document) => {
      Object.assign(document.spec.logical as object, { compression: 'zstd', compressionLevel: 3 });
    });

    const run = await runPgbackup(logicalRunArgs(policy, 'weekly', '2026-03-01T02:00:00Z'));

    expect(run.code).toBe(1);
    expect(run.stderr).toContain('spec.logical.compression zstd needs pg_dump 16 or newer');
    expect(run.stderr).toContain('Set spec.logical.compression to gzip');
    expect(await listKeys(policy.logicalPrefix)).toEqual([]);
  });
});
