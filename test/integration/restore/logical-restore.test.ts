import { createHash } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dumpObjectNameOf } from '../../../src/runner/dump-databases.js';
import {
  type RunOutcome,
  runEnvironment,
  runPgbackup,
  startPgbackup,
} from '../../harness/pgbackup-run.js';
import { serverAddress, superuserClient, withClient } from '../../harness/postgres.js';
import { testBucket, testS3Client } from '../../harness/s3.js';
import { requireEnv, uniqueSuffix } from '../../harness/variables.js';
import { listCommitted } from '../binary/policy-file.js';
import { snapshotDatabase } from '../logical/database-snapshot.js';
import {
  type LogicalPolicy,
  logicalRunArgs,
  writeLogicalPolicy,
} from '../logical/logical-policy.js';
import { readManifest } from '../logical/restore-dump.js';
import {
  createSourceDatabases,
  databasesOf,
  dropSourceDatabases,
  type SourceDatabases,
  waitForReplica,
} from '../logical/source-databases.js';

/** A restore's outcome, and what it left in its work directory. */
interface RestoreRun extends RunOutcome {
  readonly leftInWorkDir: string[];
}

const primary = () => serverAddress('primary');

/** The objects of the orphan database: a table owned by a role dropped after the backup. */
const ORPHAN_SQL = (role: string) => `
  CREATE TABLE parts (id int PRIMARY KEY, label text NOT NULL);
  INSERT INTO parts SELECT n, 'part ' || n FROM generate_series(1, 300) AS n;
  ALTER TABLE parts OWNER TO "${role}";`;

async function onPrimary<T>(database: string, work: (client: pg.Client) => Promise<T>) {
  return withClient(superuserClient('primary', database), work);
}

async function databaseExists(name: string): Promise<boolean> {
  return onPrimary('postgres', async (client) => {
    const result = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    return result.rows.length > 0;
  });
}

async function dropDatabases(names: readonly string[]): Promise<void> {
  await onPrimary('postgres', async (client) => {
    for (const name of names) {
      await client.query(`DROP DATABASE IF EXISTS ${client.escapeIdentifier(name)} WITH (FORCE)`);
    }
  });
}

async function readObject(key: string): Promise<Buffer> {
  const object = await testS3Client().send(
    new GetObjectCommand({ Bucket: testBucket(), Key: key }),
  );
  return Buffer.from((await object.Body?.transformToByteArray()) ?? []);
}

async function writeObject(key: string, body: Buffer): Promise<void> {
  await testS3Client().send(new PutObjectCommand({ Bucket: testBucket(), Key: key, Body: body }));
}

describe('pgbackup restore --type logical', () => {
  const suffix = uniqueSuffix();
  const orphan = `orphans_${suffix}`;
  const goneRole = `gone_${suffix}`;
  const created: string[] = [];
  let source: SourceDatabases;
  let policy: LogicalPolicy;
  let key: string;
  let workDir: string;

  /** Runs the restore against the primary with libpq's environment; checks no password leaks. */
  async function restore(args: readonly string[]): Promise<RestoreRun> {
    const env = runEnvironment({ PGHOST: primary().host, PGPORT: String(primary().port) });
    const argv = ['restore', '-f', policy.file, '--type', 'logical', '--work-dir', workDir];
    const outcome = await startPgbackup([...argv, ...args], env).outcome;
    for (const secret of [requireEnv('PGPASSWORD'), requireEnv('PGBACKUP_REPLICATION_PASSWORD')]) {
      expect(outcome.stdout).not.toContain(secret);
      expect(outcome.stderr).not.toContain(secret);
    }
    return { ...outcome, leftInWorkDir: await readdir(workDir) };
  }

  /** A name for a restored database, dropped after the tests. */
  function copyName(stem: string): string {
    const name = `${stem}_${suffix}`;
    created.push(name);
    return name;
  }

  beforeAll(async () => {
    source = await createSourceDatabases();
    await onPrimary('postgres', async (client) => {
      await client.query(`CREATE ROLE ${client.escapeIdentifier(goneRole)} NOLOGIN`);
      await client.query(`CREATE DATABASE ${client.escapeIdentifier(orphan)}`);
    });
    await onPrimary(orphan, (client) => client.query(ORPHAN_SQL(goneRole)));
    policy = await writeLogicalPolicy([...databasesOf(source), orphan]);
    await waitForReplica();
    const run = await runPgbackup(logicalRunArgs(policy, 'weekly', '2026-03-01T02:30:00Z'));
    expect(run.code, run.stderr).toBe(0);
    const committed = await listCommitted(policy.logicalPrefix);
    expect(committed).toHaveLength(1);
    key = committed[0] ?? '';
    // The role is gone after the backup: its dump names an owner this server lacks.
    await onPrimary(orphan, async (client) => {
      await client.query(`REASSIGN OWNED BY ${client.escapeIdentifier(goneRole)} TO CURRENT_USER`);
    });
    await onPrimary('postgres', (client) =>
      client.query(`DROP ROLE ${client.escapeIdentifier(goneRole)}`),
    );
    workDir = await mkdtemp(join(tmpdir(), 'pgbackup-logical-restore-test-'));
  });

  afterAll(async () => {
    await dropDatabases([...created, orphan]);
    await onPrimary('postgres', (client) =>
      client.query(`DROP ROLE IF EXISTS ${client.escapeIdentifier(goneRole)}`),
    );
    if (source !== undefined) await dropSourceDatabases(source);
    if (workDir !== undefined) await rm(workDir, { recursive: true, force: true });
  });

  it('restores the database with a non-ASCII name into a new database equal to it', async () => {
    const into = copyName('käse_kopie');

    const run = await restore(['--database', source.unicode, '--into', into]);

    expect(run.code, run.stderr).toBe(0);
    const restored = await onPrimary(into, snapshotDatabase);
    const original = await onPrimary(source.unicode, snapshotDatabase);
    expect(Object.keys(restored.tables).length).toBeGreaterThan(0);
    expect(restored).toEqual(original);
    const manifest = await readManifest(key);
    const object = manifest.objects.find(
      (entry) => entry.name === dumpObjectNameOf(source.unicode),
    );
    const where = requireEnv('PGBACKUP_PRIMARY');
    expect(run.stdout).toContain(
      `restored database "${source.unicode}" into the new database "${into}" on ${where} as "${requireEnv('PGUSER')}" (PostgreSQL 15.`,
    );
    expect(run.stdout).toContain(
      `backup: ${key} (line weekly, committed at ${manifest.committedAt}, dumped from PostgreSQL ${manifest.server.version} on ${manifest.server.host})`,
    );
    expect(run.stdout).toContain(
      `object: ${key}${object?.name} matched its manifest (${object?.sizeBytes} bytes, SHA-256 ${object?.sha256})`,
    );
    expect(run.stdout).toContain(
      `Roles are not restored: they are in the backup's globals.sql (${key}globals.sql)`,
    );
    // Logs are JSON lines on stderr.
    for (const line of run.stderr.trim().split('\n')) expect(() => JSON.parse(line)).not.toThrow();
    expect(run.leftInWorkDir).toEqual([]);
  });

  it('restores large objects with pg_restore --jobs 2', async () => {
    const into = copyName('blobs_kopie');

    const run = await restore(['--database', source.blobs, '--into', into, '--jobs', '2']);

    expect(run.code, run.stderr).toBe(0);
    const restored = await onPrimary(into, snapshotDatabase);
    expect(restored.largeObjects.length).toBe(5);
    expect(restored).toEqual(await onPrimary(source.blobs, snapshotDatabase));
  });

  it('restores the database with pgcrypto, a working extension with the same data', async () => {
    const into = copyName('crypto_kopie');

    const run = await restore(['--database', source.crypto, '--into', into]);

    expect(run.code, run.stderr).toBe(0);
    expect(await onPrimary(into, snapshotDatabase)).toEqual(
      await onPrimary(source.crypto, snapshotDatabase),
    );
    const digestsMatch = await onPrimary(into, async (client) => {
      const result = await client.query<{ ok: boolean }>(
        "SELECT bool_and(email_digest = digest(email, 'sha256')) AS ok FROM accounts",
      );
      return result.rows[0]?.ok;
    });
    expect(digestsMatch).toBe(true);
  });

  it('fails when the dump names a role the server lacks, drops the database it created, and points to --no-owner', async () => {
    const into = copyName('orphans_kopie');

    const run = await restore(['--database', orphan, '--into', into]);

    expect(run.code).toBe(1);
    expect(run.stderr).toContain(
      `pg_restore into database "${into}" on ${requireEnv('PGBACKUP_PRIMARY')} failed (exit status 1):`,
    );
    expect(run.stderr).toContain(`role "${goneRole}" does not exist`);
    expect(run.stderr).toContain('or restore with --no-owner');
    expect(run.stderr).toContain(
      `Nothing was restored: the database "${into}" it created was dropped again`,
    );
    expect(await databaseExists(into)).toBe(false);
    expect(run.leftInWorkDir).toEqual([]);
  });

  it('restores that dump with --no-owner: same data, owned by the login', async () => {
    const into = copyName('orphans_kopie');

    const run = await restore(['--database', orphan, '--into', into, '--no-owner']);

    expect(run.code, run.stderr).toBe(0);
    const restored = await onPrimary(into, snapshotDatabase);
    const original = await onPrimary(orphan, snapshotDatabase);
    expect(restored.tables).toEqual(original.tables);
    expect(restored.tables['public.parts']?.rows).toBe(300);
    expect(restored.owners).toEqual([`parts ${requireEnv('PGUSER')}`]);
    expect(run.stdout).toContain(
      `Owners and grants were skipped (--no-owner): the restored objects belong to "${requireEnv('PGUSER')}"`,
    );
  });

  it('refuses a database that exists already, before downloading anything, and leaves it untouched', async () => {
    const before = await onPrimary(source.crypto, snapshotDatabase);

    const run = await restore(['--database', source.crypto]);

    expect(run.code).toBe(1);
    expect(run.stderr).toContain(
      `database "${source.crypto}" already exists on ${requireEnv('PGBACKUP_PRIMARY')}; nothing was downloaded or changed. Restore into a new database with --into NAME, or drop "${source.crypto}" first if it may go`,
    );
    expect(run.stderr).not.toContain('downloading');
    expect(await onPrimary(source.crypto, snapshotDatabase)).toEqual(before);
    expect(run.leftInWorkDir).toEqual([]);

    const named = await restore(['--database', source.blobs, '--into', source.crypto]);
    expect(named.code).toBe(1);
    expect(named.stderr).toContain(`database "${source.crypto}" already exists`);
    expect(named.stderr).toContain('with another --into NAME');
    expect(await onPrimary(source.crypto, snapshotDatabase)).toEqual(before);
  });

  it('asks which database when the backup holds several, listing them', async () => {
    const run = await restore([]);

    expect(run.code).toBe(2);
    const names = [...databasesOf(source), orphan].sort().map((name) => `"${name}"`);
    expect(run.stderr).toContain(
      `the backup ${key} holds 4 databases: ${names.join(', ')}; name the one to restore with --database NAME`,
    );
  });

  it('names the databases there are when --database names none of them', async () => {
    const run = await restore(['--database', `missing_${suffix}`]);

    expect(run.code).toBe(2);
    expect(run.stderr).toContain(
      `the backup ${key} holds no database "missing_${suffix}"; it holds "`,
    );
  });

  it('refuses a damaged dump, naming the object and both SHA-256s, and creates no database', async () => {
    const manifest = await readManifest(key);
    const object = manifest.objects.find((entry) => entry.name === dumpObjectNameOf(source.crypto));
    if (object === undefined) throw new Error('the backup holds no dump of the crypto database');
    const objectKey = `${key}${object.name}`;
    const original = await readObject(objectKey);
    const damaged = Buffer.from(original);
    const middle = Math.floor(damaged.length / 2);
    damaged[middle] = (damaged[middle] ?? 0) ^ 0xff;
    await writeObject(objectKey, damaged);
    const into = copyName('crypto_beschaedigt');
    try {
      const run = await restore(['--database', source.crypto, '--into', into]);

      expect(run.code).toBe(1);
      const damagedSha256 = createHash('sha256').update(damaged).digest('hex');
      expect(run.stderr).toContain(
        `object ${objectKey} does not match its manifest: SHA-256 ${damagedSha256} where the manifest says ${object.sha256}`,
      );
      expect(await databaseExists(into)).toBe(false);
      expect(run.leftInWorkDir).toEqual([]);
    } finally {
      await writeObject(objectKey, original);
    }
  });
});
