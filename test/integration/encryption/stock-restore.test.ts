/**
 * Backups of a policy with `spec.storage.encryption` are restored with stock tools only, as a
 * person without our code would (docs/encryption.md): `age -d -i key.txt`, then `zstd`, `tar`,
 * `pg_verifybackup` and `postgres` for a binary backup, `psql` and `pg_restore` for a logical
 * one. What the bucket holds, read with the runner's own S3 credentials, is ciphertext.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fingerprintRecipient } from '../../../src/encryption/index.js';
import { dumpObjectNameOf } from '../../../src/runner/dump-databases.js';
import type { BackupManifest } from '../../../src/storage/index.js';
import { runTool } from '../../harness/env/processes.js';
import { runPgbackup } from '../../harness/pgbackup-run.js';
import { superuserClient, withClient } from '../../harness/postgres.js';
import { downloadObject, fingerprintTables, startRestoredServer } from '../../harness/restore.js';
import { testBucket, testS3Client } from '../../harness/s3.js';
import { startScratchPrimary } from '../../harness/scratch-postgres.js';
import { requireEnv, uniqueSuffix } from '../../harness/variables.js';
import { usePgbenchDatabases } from '../binary/pgbench-databases.js';
import { listCommitted, runArgs, writeTestPolicy } from '../binary/policy-file.js';
import { logicalRunArgs, writeLogicalPolicy } from '../logical/logical-policy.js';
import { readManifest } from '../logical/restore-dump.js';
import { runPgTool, waitForReplica } from '../logical/source-databases.js';
import { generateKeyFile, requireAgeTools } from './age-tool.js';

/** A loopback address on the environment's subnet that its own servers do not use. */
function hostOnSubnet(last: number): string {
  const [a, b, c] = (requireEnv('PGBACKUP_PRIMARY').split(':')[0] ?? '').split('.');
  return `${a}.${b}.${c}.${last}`;
}

let directory = '';
let keyFile = '';
let publicKey = '';

beforeAll(async () => {
  requireAgeTools();
  directory = await mkdtemp(join(tmpdir(), 'pgbackup-stock-restore-'));
  keyFile = (await generateKeyFile(directory, 'key.txt')).path;
  const printed = spawnSync('age-keygen', ['-y', keyFile], { encoding: 'utf8' });
  if (printed.status !== 0) throw new Error(`age-keygen -y failed: ${printed.stderr}`);
  publicKey = printed.stdout.trim();
});

afterAll(async () => {
  if (directory !== '') await rm(directory, { recursive: true, force: true });
});

/** Adds `spec.storage.encryption` with the test's public key, written inline. */
function encryptFor(document: { spec: { storage: Record<string, unknown> } }): void {
  document.spec.storage.encryption = { recipients: [{ publicKey }] };
}

/** Downloads an object with the runner's S3 credentials and checks the manifest's digest. */
async function downloadChecked(
  key: string,
  object: BackupManifest['objects'][number],
): Promise<{ path: string; bytes: Buffer }> {
  const path = join(directory, `${uniqueSuffix()}-${object.name}`);
  await downloadObject(testS3Client(), { bucket: testBucket(), key: `${key}${object.name}` }, path);
  const bytes = await readFile(path);
  expect(bytes.length).toBe(object.sizeBytes);
  expect(createHash('sha256').update(bytes).digest('hex')).toBe(object.sha256);
  return { path, bytes };
}

/** What a stored object must look like: an age file, nothing of the plaintext readable. */
function expectCiphertext(bytes: Buffer, plaintextMarkers: readonly string[]): void {
  expect(bytes.subarray(0, 22).toString('latin1')).toBe('age-encryption.org/v1\n');
  for (const marker of ['PGDMP', 'ustar', ...plaintextMarkers]) {
    expect(bytes.includes(Buffer.from(marker, 'utf8')), marker).toBe(false);
  }
}

/** Adds a table whose one row is a recognizable text, to look for in the stored objects. */
async function addMarkerRow(database: string): Promise<string> {
  const marker = `plaintext-marker-${uniqueSuffix()}`;
  await withClient(superuserClient('primary', database), async (client) => {
    await client.query('CREATE TABLE notes (body text)');
    await client.query('INSERT INTO notes VALUES ($1)', [marker]);
  });
  return marker;
}

function expectEncryptedManifest(manifest: BackupManifest): void {
  expect(manifest.encryption).toEqual({
    format: 'age',
    recipients: [fingerprintRecipient(publicKey)],
  });
}

describe('an encrypted binary backup', () => {
  const pgbenchDatabase = usePgbenchDatabases();

  it('restores with age, zstd, tar, pg_verifybackup and postgres only, every table equal to the source', async () => {
    const database = await pgbenchDatabase(2);
    const marker = await addMarkerRow(database);
    const source = await withClient(superuserClient('primary', database), fingerprintTables);
    expect(source['public.pgbench_accounts']?.rows).toBe(200_000);
    const policy = await writeTestPolicy('daily.yaml', encryptFor);

    const run = await runPgbackup(runArgs(policy, 'daily', '2026-03-02T02:00:00Z'));

    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toMatch(
      new RegExp(
        `"recipients":\\["${fingerprintRecipient(publicKey)}"\\].*"msg":"encrypting every object with age`,
      ),
    );
    const [key] = await listCommitted(policy.binaryPrefix);
    if (key === undefined) throw new Error('no backup committed');
    const manifest = await readManifest(key);
    expectEncryptedManifest(manifest);
    expect(manifest.objects.map((object) => object.name)).toEqual(['base.tar.zst.age']);
    const [object] = manifest.objects;
    if (object === undefined) throw new Error('the manifest lists no object');
    const { path, bytes } = await downloadChecked(key, object);
    expectCiphertext(bytes, [marker, 'PG_VERSION']);

    const dataDir = await mkdtemp(join(tmpdir(), 'pgbackup-stock-restore-data-'));
    try {
      await runTool('bash', [
        '-c',
        'set -o pipefail; age -d -i "$1" < "$2" | zstd -dc | tar -xf - -C "$3"',
        'bash',
        keyFile,
        path,
        dataDir,
      ]);
      // The WAL the backup needs is inside the tar (pg_basebackup -X fetch).
      await runTool(join(requireEnv('PGBACKUP_PG_BIN'), 'pg_verifybackup'), [dataDir]);
      const server = await startRestoredServer(dataDir, hostOnSubnet(50));
      try {
        const restored = await withClient(server.client(database), fingerprintTables);
        expect(restored['public.notes']).toEqual({ rows: 1, md5: expect.any(String) });
        expect(restored).toEqual(source);
      } finally {
        await server.stop();
      }
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});

describe('an encrypted logical backup', () => {
  const pgbenchDatabase = usePgbenchDatabases();

  it('restores with age, psql and pg_restore only, every table equal to the source', async () => {
    const database = await pgbenchDatabase(1);
    const marker = await addMarkerRow(database);
    const source = await withClient(superuserClient('primary', database), fingerprintTables);
    const policy = await writeLogicalPolicy([database], encryptFor);
    await waitForReplica();

    const run = await runPgbackup(logicalRunArgs(policy, 'weekly', '2026-03-01T02:30:00Z'));

    expect(run.code, run.stderr).toBe(0);
    const [key] = await listCommitted(policy.logicalPrefix);
    if (key === undefined) throw new Error('no backup committed');
    const manifest = await readManifest(key);
    expectEncryptedManifest(manifest);
    const dumpName = `${dumpObjectNameOf(database)}.age`;
    expect(manifest.objects.map((object) => object.name)).toEqual(['globals.sql.age', dumpName]);
    const plain: Record<string, string> = {};
    for (const object of manifest.objects) {
      const { path, bytes } = await downloadChecked(key, object);
      expectCiphertext(bytes, [marker, 'CREATE ROLE', 'pgbench_accounts']);
      const decrypted = path.slice(0, -'.age'.length);
      await runTool('bash', [
        '-c',
        'age -d -i "$1" < "$2" > "$3"',
        'bash',
        keyFile,
        path,
        decrypted,
      ]);
      plain[object.name] = decrypted;
    }

    const server = await startScratchPrimary(hostOnSubnet(51));
    try {
      await runPgTool(
        'psql',
        ['-X', '-q', '-d', 'postgres', '-f', plain['globals.sql.age'] ?? ''],
        server,
      );
      await runPgTool(
        'pg_restore',
        ['--create', '--exit-on-error', '--dbname=postgres', plain[dumpName] ?? ''],
        server,
      );
      const restored = await withClient(server.client(database), fingerprintTables);
      expect(restored['public.notes']).toEqual({ rows: 1, md5: expect.any(String) });
      expect(restored).toEqual(source);
    } finally {
      await server.stop();
    }
  });
});
