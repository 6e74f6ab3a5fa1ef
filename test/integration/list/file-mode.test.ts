import { DeleteObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runPgbackup } from '../../harness/pgbackup-run.js';
import { superuserClient, withClient } from '../../harness/postgres.js';
import { testBucket, testS3Client } from '../../harness/s3.js';
import { uniqueSuffix } from '../../harness/variables.js';
import {
  dropTestDatabase,
  runArgs,
  type TestPolicy,
  writeTestPolicy,
} from '../binary/policy-file.js';
import { logicalRunArgs } from '../logical/logical-policy.js';
import { waitForReplica } from '../logical/source-databases.js';
import {
  asListed,
  headerOf,
  readCommitted,
  rowsOf,
  runList,
  type StoredBackup,
} from './list-run.js';

/** The key of the one backup a run committed, from its output. */
function committedKey(run: { code: number | null; stdout: string; stderr: string }): string {
  expect(run.code, run.stderr).toBe(0);
  const key = /committed (\S+)/.exec(run.stdout)?.[1];
  if (key === undefined) throw new Error(`the run committed nothing: ${run.stdout}`);
  return key;
}

function sizeOf(backup: StoredBackup): number {
  return backup.manifest.objects.reduce((sum, object) => sum + object.sizeBytes, 0);
}

describe('pgbackup list -f POLICY.yaml, over backups the runner took', () => {
  let policy: TestPolicy;
  let logicalPrefix: string;
  /** A database whose name needs percent-encoding in its dump's object name. */
  let database: string;
  /** The keys, in the order the runs committed them. */
  const taken: Record<'weekly' | 'logical' | 'monday' | 'tuesday', string> = {
    weekly: '',
    logical: '',
    monday: '',
    tuesday: '',
  };

  beforeAll(async () => {
    database = `list café ${uniqueSuffix()}`;
    await withClient(superuserClient('primary'), (client) =>
      client.query(`CREATE DATABASE ${client.escapeIdentifier(database)}`),
    );
    policy = await writeTestPolicy('with-local-copy.yaml', (document) => {
      document.spec.logical = { lines: { weekly: 4 }, databases: [database] };
    });
    logicalPrefix = `${policy.prefix}/${policy.namespace}/${policy.name}/logical/`;
    await waitForReplica();
    // Sunday 1 March 2026: a binary and a logical weekly; then the dailies of Monday and Tuesday.
    taken.weekly = committedKey(
      await runPgbackup(runArgs(policy, 'weekly', '2026-03-01T01:30:00Z')),
    );
    taken.logical = committedKey(
      await runPgbackup(logicalRunArgs(policy, 'weekly', '2026-03-01T02:30:00Z')),
    );
    taken.monday = committedKey(
      await runPgbackup(runArgs(policy, 'daily', '2026-03-02T01:30:00Z')),
    );
    taken.tuesday = committedKey(
      await runPgbackup(runArgs(policy, 'daily', '2026-03-03T01:30:00Z')),
    );
  });

  afterAll(async () => {
    if (database !== undefined) await dropTestDatabase(database);
  });

  async function stored(): Promise<Map<string, StoredBackup>> {
    const backups = [
      ...(await readCommitted(policy.binaryPrefix)),
      ...(await readCommitted(logicalPrefix)),
    ];
    return new Map(backups.map((backup) => [backup.key, backup]));
  }

  it('lists every committed backup newest first, with its line, slot label and key as stored', async () => {
    const bucket = await stored();

    const run = await runList(['-f', policy.file]);

    expect(run.code, run.stderr).toBe(0);
    expect(headerOf(run.stdout)).toEqual([
      'TYPE',
      'LINE',
      'SLOT',
      'STARTED',
      'COMMITTED',
      'SIZE',
      'POSTGRESQL',
      'DATABASES',
      'KEY',
    ]);
    const rows = rowsOf(run.stdout);
    expect(rows.map((row) => row.slice(0, 3))).toEqual([
      ['binary', 'daily', 'tue'],
      ['binary', 'daily', 'mon'],
      ['logical', 'weekly', 'sun-3'],
      ['binary', 'weekly', 'sun-3'],
    ]);
    const keys = rows.map((row) => row.at(-1));
    expect(keys).toEqual([taken.tuesday, taken.monday, taken.logical, taken.weekly]);
    expect([...keys].sort()).toEqual([...bucket.keys()].sort());
    for (const row of rows) {
      const backup = bucket.get(row.at(-1) ?? '');
      if (backup === undefined)
        throw new Error(`listed a key the bucket lacks: ${row.join(' | ')}`);
      const { manifest } = backup;
      expect(row[2]).toBe(manifest.slotLabel);
      expect(row[3]).toBe(asListed(manifest.startedAt));
      expect(row[4]).toBe(asListed(manifest.committedAt));
      expect(row[5]).toMatch(/^\d+(\.\d)? (B|KiB|MiB|GiB)$/);
      expect(row[6]).toBe(manifest.server.version.split(' ')[0]);
      expect(row[7]).toBe(manifest.type === 'logical' ? JSON.stringify(database) : '-');
    }
  });

  it('prints the manifests as JSON for scripts, newest first', async () => {
    const bucket = await stored();

    const run = await runList(['-f', policy.file, '-o', 'json']);

    expect(run.code, run.stderr).toBe(0);
    const listed = JSON.parse(run.stdout) as { key: string }[];
    expect(listed.map((backup) => backup.key)).toEqual([
      taken.tuesday,
      taken.monday,
      taken.logical,
      taken.weekly,
    ]);
    for (const backup of listed) {
      const { manifest } = bucket.get(backup.key) ?? { manifest: undefined };
      if (manifest === undefined) throw new Error(`listed a key the bucket lacks: ${backup.key}`);
      expect(backup).toEqual({
        key: backup.key,
        type: manifest.type,
        line: manifest.line,
        slot: manifest.slot,
        slotLabel: manifest.slotLabel,
        startedAt: manifest.startedAt,
        completedAt: manifest.completedAt,
        committedAt: manifest.committedAt,
        sizeBytes: sizeOf({ key: backup.key, manifest }),
        server: {
          version: manifest.server.version,
          versionNumber: manifest.server.versionNumber,
          host: manifest.server.host,
        },
        compression: manifest.compression,
        ...(manifest.type === 'logical' ? { databases: [database] } : {}),
        objects: manifest.objects,
      });
    }
  });

  it('filters by type and by line', async () => {
    const logical = await runList(['-f', policy.file, '--type', 'logical', '-o', 'json']);
    const daily = await runList(['-f', policy.file, '--line', 'daily']);
    const onDemand = await runList(['-f', policy.file, '--type', 'binary', '--line', 'on-demand']);

    expect(JSON.parse(logical.stdout).map((backup: { key: string }) => backup.key)).toEqual([
      taken.logical,
    ]);
    expect(rowsOf(daily.stdout).map((row) => row.at(-1))).toEqual([taken.tuesday, taken.monday]);
    expect(headerOf(daily.stdout)).not.toContain('DATABASES');
    expect(onDemand).toMatchObject({
      code: 0,
      stdout: `no committed binary backups of line on-demand of BackupPolicy ${policy.namespace}/${policy.name} in s3://${testBucket()} (${process.env.PGBACKUP_S3_ENDPOINT}) under ${policy.binaryPrefix}\n`,
    });
  });

  it('lists the copies on the local volume with --local-dir: the dailies', async () => {
    const run = await runList(['-f', policy.file, '--local-dir', policy.localDir]);

    expect(run.code, run.stderr).toBe(0);
    expect(rowsOf(run.stdout).map((row) => [row[1], row[2], row.at(-1)])).toEqual([
      ['daily', 'tue', taken.tuesday],
      ['daily', 'mon', taken.monday],
    ]);
  });

  it('refuses --local-dir with --type logical: the volume holds binary backups only', async () => {
    const run = await runList([
      '-f',
      policy.file,
      '--type',
      'logical',
      '--local-dir',
      policy.localDir,
    ]);

    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--local-dir holds binary backups only');
  });

  it('does not list a backup whose manifest.json is gone: it is not committed', async () => {
    await testS3Client().send(
      new DeleteObjectCommand({ Bucket: testBucket(), Key: `${taken.tuesday}manifest.json` }),
    );

    const run = await runList(['-f', policy.file]);

    expect(run.code, run.stderr).toBe(0);
    expect(rowsOf(run.stdout).map((row) => row.at(-1))).toEqual([
      taken.monday,
      taken.logical,
      taken.weekly,
    ]);
    expect(run.stdout).not.toContain(taken.tuesday);
  });
});

describe('pgbackup list -f POLICY.yaml, when the catalog cannot be read', () => {
  it('exits 1 naming a bucket that does not exist', async () => {
    const bucket = `pgbackup-missing-${uniqueSuffix()}`;
    const policy = await writeTestPolicy('daily.yaml', (document) => {
      document.spec.storage.s3.bucket = bucket;
    });

    const run = await runList(['-f', policy.file]);

    expect(run.code).toBe(1);
    expect(run.stderr).toContain(
      `pgbackup list: bucket "${bucket}" does not exist at s3://${bucket}`,
    );
    expect(run.stdout).toBe('');
  });

  it('says so, and exits 0, when the policy has no committed backup', async () => {
    const policy = await writeTestPolicy('daily.yaml');

    const run = await runList(['-f', policy.file]);

    expect(run).toMatchObject({
      code: 0,
      stdout: `no committed backups of BackupPolicy ${policy.namespace}/${policy.name} in s3://${testBucket()} (${process.env.PGBACKUP_S3_ENDPOINT}) under ${policy.prefix}/${policy.namespace}/${policy.name}/\n`,
    });
  });
});
