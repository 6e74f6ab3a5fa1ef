import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dumpObjectNameOf } from '../../../src/runner/dump-databases.js';
import type { BackupManifest } from '../../../src/storage/index.js';
import { runPgbackup } from '../../harness/pgbackup-run.js';
import { superuserClient, withClient } from '../../harness/postgres.js';
import { type ScratchServer, startScratchPrimary } from '../../harness/scratch-postgres.js';
import { requireEnv } from '../../harness/variables.js';
import { listCommitted } from '../binary/policy-file.js';
import { snapshotDatabase, snapshotRoles } from './database-snapshot.js';
import { type LogicalPolicy, logicalRunArgs, writeLogicalPolicy } from './logical-policy.js';
import { downloadBackup, restoreBackup } from './restore-dump.js';
import { loggedConnections } from './server-log.js';
import {
  createSourceDatabases,
  databasesOf,
  dropSourceDatabases,
  type SourceDatabases,
  waitForReplica,
} from './source-databases.js';

describe('a logical backup of three databases and a role', () => {
  let source: SourceDatabases;
  let policy: LogicalPolicy;
  let key: string;
  let manifest: BackupManifest;
  let dir: string;
  let stdout: string;

  beforeAll(async () => {
    source = await createSourceDatabases();
    policy = await writeLogicalPolicy(databasesOf(source));
    await waitForReplica();
    const run = await runPgbackup(logicalRunArgs(policy, 'weekly', '2026-03-01T02:30:00Z'));
    expect(run.code, run.stderr).toBe(0);
    stdout = run.stdout;
    const committed = await listCommitted(policy.logicalPrefix);
    expect(committed).toHaveLength(1);
    key = committed[0] ?? '';
    dir = await mkdtemp(join(tmpdir(), 'pgbackup-logical-restore-'));
    manifest = await downloadBackup(key, dir);
  });

  afterAll(async () => {
    if (source !== undefined) await dropSourceDatabases(source);
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  it('stores the globals and one dump per database, each with its SHA-256, in a weekly slot', () => {
    expect(key).toMatch(/\/logical\/weekly\/2\/20260301T023000Z-[0-9a-f]{8}\/$/);
    expect(stdout).toContain(`committed ${key} (weekly slot 2, sun-3)`);
    expect(manifest.type).toBe('logical');
    expect(manifest.server.host).toBe(requireEnv('PGBACKUP_REPLICA'));
    expect(manifest.objects.map((object) => object.name)).toEqual([
      'globals.sql',
      ...[...databasesOf(source)].sort().map(dumpObjectNameOf),
    ]);
    // The non-ASCII name, percent-encoded into one key segment.
    expect(dumpObjectNameOf(source.unicode)).toMatch(/^k%C3%A4se_stra%C3%9Fe_.*\.dump$/);
    expect(manifest.tools.pg_dump).toMatch(/^pg_dump \(PostgreSQL\) 15\./);
  });

  it('was served by the replica, and the primary served none of it', async () => {
    const applicationName = `pgbackup-logical-${manifest.id}`;
    const onReplica = await loggedConnections('replica', applicationName);
    // pg_dumpall --globals-only connects to postgres (and template1 to check it), then one
    // pg_dump session per database.
    for (const database of databasesOf(source)) expect(onReplica).toContain(database);
    expect(onReplica).toContain('postgres');
    expect(await loggedConnections('primary', applicationName)).toEqual([]);
  });

  describe('restored with stock psql and pg_restore into a fresh server', () => {
    let server: ScratchServer;

    beforeAll(async () => {
      server = await startScratchPrimary('127.0.0.41');
      await restoreBackup(manifest, dir, server);
    });

    afterAll(async () => {
      await server?.stop();
    });

    it('has the role and its group, with the same attributes, password and membership', async () => {
      const roles = [source.role, source.group];
      const restored = await withClient(server.client('postgres'), (client) =>
        snapshotRoles(client, roles),
      );
      const original = await withClient(superuserClient('primary'), (client) =>
        snapshotRoles(client, roles),
      );
      expect(restored).toHaveLength(2);
      expect(restored).toEqual(original);
    });

    it.each([
      ['the non-ASCII name', 'unicode'],
      ['a large object', 'blobs'],
      ['pgcrypto', 'crypto'],
    ] as const)('has the database with %s equal to the source', async (_what, which) => {
      const database = source[which];
      const restored = await withClient(server.client(database), snapshotDatabase);
      const original = await withClient(superuserClient('primary', database), snapshotDatabase);
      expect(Object.keys(restored.tables).length).toBeGreaterThan(0);
      expect(restored).toEqual(original);
    });

    it('restores large objects and a working pgcrypto', async () => {
      const blobs = await withClient(server.client(source.blobs), async (client) => {
        const result = await client.query<{ count: number; bytes: string }>(
          'SELECT count(*)::int AS count, sum(length(lo_get(content)))::text AS bytes FROM documents',
        );
        return result.rows[0];
      });
      expect(blobs).toEqual({ count: 5, bytes: expect.any(String) });
      expect(Number(blobs?.bytes)).toBeGreaterThan(8192);
      const digest = await withClient(server.client(source.crypto), async (client) => {
        const result = await client.query<{ ok: boolean }>(
          "SELECT bool_and(email_digest = digest(email, 'sha256')) AS ok FROM accounts",
        );
        return result.rows[0]?.ok;
      });
      expect(digest).toBe(true);
    });
  });
});
