/**
 * Encrypted backups for the read-path tests: a database with recognizable rows, one binary
 * and one logical backup of it taken by the runner for a policy with
 * `spec.storage.encryption` (an inline public key), and two age identities in files the
 * restore's and the drill's user (postgres, when the tests run as root) may read: the
 * owner's, which the backups were made for, and a stranger's.
 */
import { spawnSync } from 'node:child_process';
import { chmod, chown, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { expect } from 'vitest';
import { fingerprintRecipient } from '../../../src/encryption/index.js';
import { postgresRunAs } from '../../harness/env/postgres.js';
import { runPgbackup } from '../../harness/pgbackup-run.js';
import { createTestDatabase, superuserClient, withClient } from '../../harness/postgres.js';
import { fingerprintTables, type TableFingerprint } from '../../harness/restore.js';
import { testBucket, testS3Client } from '../../harness/s3.js';
import {
  dropTestDatabase,
  listCommitted,
  runArgs,
  type TestPolicy,
  writeTestPolicy,
} from '../binary/policy-file.js';
import {
  type LogicalPolicy,
  logicalRunArgs,
  writeLogicalPolicy,
} from '../logical/logical-policy.js';
import { waitForReplica } from '../logical/source-databases.js';
import { generateKeyFile, requireAgeTools } from './age-tool.js';

/** An identity file, and the fingerprint of its public key. */
export interface KeyFile {
  readonly path: string;
  readonly fingerprint: string;
}

/** What the tests read back. */
export interface EncryptedBackups {
  readonly database: string;
  readonly tables: Record<string, TableFingerprint>;
  readonly owner: KeyFile;
  readonly stranger: KeyFile;
  readonly binary: { readonly policy: TestPolicy; readonly key: string };
  readonly logical: { readonly policy: LogicalPolicy; readonly key: string };
  /** Drops the database and removes the key files. */
  readonly dispose: () => Promise<void>;
}

async function keyFile(directory: string, name: string): Promise<KeyFile> {
  const { path } = await generateKeyFile(directory, name);
  const printed = spawnSync('age-keygen', ['-y', path], { encoding: 'utf8' });
  if (printed.status !== 0) throw new Error(`age-keygen -y failed: ${printed.stderr}`);
  const runAs = postgresRunAs();
  if (runAs !== undefined) await chown(path, runAs.uid, runAs.gid);
  return { path, fingerprint: fingerprintRecipient(printed.stdout.trim()) };
}

async function committedOne(prefix: string): Promise<string> {
  const [key, ...more] = await listCommitted(prefix);
  if (key === undefined || more.length > 0) throw new Error(`expected one backup under ${prefix}`);
  return key;
}

/** Takes the encrypted backups (a few seconds each on a small database). */
export async function takeEncryptedBackups(): Promise<EncryptedBackups> {
  requireAgeTools();
  const directory = await mkdtemp(join(tmpdir(), 'pgbackup-encrypted-read-'));
  await chmod(directory, 0o755);
  const owner = await keyFile(directory, 'owner.txt');
  const stranger = await keyFile(directory, 'stranger.txt');
  const publicKey = spawnSync('age-keygen', ['-y', owner.path], { encoding: 'utf8' }).stdout.trim();
  const encryptFor = (document: { spec: { storage: Record<string, unknown> } }) => {
    document.spec.storage.encryption = { recipients: [{ publicKey }] };
  };
  const database = await createTestDatabase();
  await withClient(superuserClient('primary', database), (client) =>
    client.query(
      "CREATE TABLE orders (id int PRIMARY KEY, note text); INSERT INTO orders SELECT n, 'order ' || md5(n::text) FROM generate_series(1, 5000) n",
    ),
  );
  const tables = await withClient(superuserClient('primary', database), fingerprintTables);
  const binaryPolicy = await writeTestPolicy('daily.yaml', encryptFor);
  const logicalPolicy = await writeLogicalPolicy([database], encryptFor);
  // The restore's and the drill's user read the policy files.
  for (const policy of [binaryPolicy, logicalPolicy]) await chmod(dirname(policy.file), 0o755);
  const binaryRun = await runPgbackup(runArgs(binaryPolicy, 'daily', '2026-03-02T02:00:00Z'));
  expect(binaryRun.code, binaryRun.stderr).toBe(0);
  await waitForReplica();
  const logicalRun = await runPgbackup(
    logicalRunArgs(logicalPolicy, 'weekly', '2026-03-01T02:30:00Z'),
  );
  expect(logicalRun.code, logicalRun.stderr).toBe(0);
  return {
    database,
    tables,
    owner,
    stranger,
    binary: { policy: binaryPolicy, key: await committedOne(binaryPolicy.binaryPrefix) },
    logical: { policy: logicalPolicy, key: await committedOne(logicalPolicy.logicalPrefix) },
    dispose: async () => {
      await dropTestDatabase(database);
      await rm(directory, { recursive: true, force: true });
    },
  };
}

/** The stored bytes of an object. */
export async function readStored(key: string): Promise<Buffer> {
  const object = await testS3Client().send(
    new GetObjectCommand({ Bucket: testBucket(), Key: key }),
  );
  return Buffer.from((await object.Body?.transformToByteArray()) ?? []);
}

/** Replaces an object's stored bytes. */
export async function writeStored(key: string, body: Buffer | string): Promise<void> {
  await testS3Client().send(new PutObjectCommand({ Bucket: testBucket(), Key: key, Body: body }));
}
