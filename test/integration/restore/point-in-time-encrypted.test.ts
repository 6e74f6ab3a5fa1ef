/**
 * Point-in-time restore of a policy with `spec.storage.encryption` (issue 18): markers are
 * committed every 100 ms while the receiver streams encrypted WAL into the bucket and an
 * encrypted binary backup is taken. `pgbackup restore --target-time T --identity FILE`
 * restores exactly the markers committed at or before T, the restored server fetching the
 * `.age` WAL with `pgbackup wal-fetch --identity FILE` (the path in restore_command, never the
 * key). Without an identity, or with another key, the restore fails before anything is
 * downloaded, naming the recipient the backup was made for, and the target is never made.
 * The point-in-time drill (`pgbackup verify --type point-in-time --identity FILE`) passes on
 * the same bucket, and fails with another key before anything is downloaded.
 */
import { chmod, chown, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fingerprintRecipient } from '../../../src/encryption/index.js';
import { type CatalogEntry, createS3Store, policyKeyPrefix } from '../../../src/storage/index.js';
import { postgresRunAs } from '../../harness/env/postgres.js';
import { runEnvironment } from '../../harness/pgbackup-run.js';
import { withClient } from '../../harness/postgres.js';
import { startRestoredServer } from '../../harness/restore.js';
import { requireEnv } from '../../harness/variables.js';
import { generateKeyFile, requireAgeTools } from '../encryption/age-tool.js';
import { runVerify } from '../verify/verify-run.js';
import {
  type MarkedReceiver,
  type Marker,
  SCRATCH_RECEIVER_ENV,
  startMarkedReceiver,
  waitFor,
  walNames,
  walStoreOf,
  walTestHost,
} from '../wal/receiver-harness.js';
import { restoreParentDir, runRestore } from './restore-run.js';

/** An instant in microseconds as --target-time takes it (UTC, to the microsecond). */
function instant(micros: number): string {
  const iso = new Date(Math.floor(micros / 1000)).toISOString();
  return `${iso.slice(0, 19)}.${String(micros % 1_000_000).padStart(6, '0')}Z`;
}

/**
 * An `age-keygen` identity file the restore's user (postgres, when the tests run as root)
 * owns, mode 0600, in a directory it can enter: restore_command reads it as that user.
 */
async function identityFile(dir: string, name: string) {
  const { path, text } = await generateKeyFile(dir, name);
  const publicKey = /# public key: (age1[0-9a-z]+)/.exec(text)?.[1] ?? '';
  const runAs = postgresRunAs();
  await chmod(path, 0o600);
  if (runAs !== undefined) await chown(path, runAs.uid, runAs.gid);
  return { path, publicKey, fingerprint: fingerprintRecipient(publicKey) };
}

describe('pgbackup restore to a point in time of an encrypted policy', () => {
  let dir: string;
  let world: MarkedReceiver | undefined;
  let key: Awaited<ReturnType<typeof identityFile>>;
  let otherKey: Awaited<ReturnType<typeof identityFile>>;
  const markers: Marker[] = [];
  let backup: CatalogEntry | undefined;

  beforeAll(async () => {
    requireAgeTools();
    dir = await mkdtemp(join(tmpdir(), 'pgbackup-pitr-encrypted-'));
    await chmod(dir, 0o755);
    key = await identityFile(dir, 'key.txt');
    otherKey = await identityFile(dir, 'other-key.txt');
    world = await startMarkedReceiver({
      octets: { primary: 102, replica: 103 },
      policy: { name: 'pitr-encrypted', recipients: [key.publicKey] },
    });
    const stopMarkers = world.startMarkers(markers);
    await sleep(1500);
    await world.binaryBackup('2026-03-01T01:30:00Z');
    for (let round = 0; round < 2; round += 1) {
      await sleep(1500);
      await withClient(world.pair.primary.client('postgres'), (client) =>
        client.query('SELECT pg_switch_wal()'),
      );
    }
    await sleep(1500);
    await stopMarkers();
    await world.waitArchived();
    const { policy } = world;
    const entries = await createS3Store({
      bucket: policy.bucket,
      region: requireEnv('AWS_REGION'),
      endpoint: requireEnv('PGBACKUP_S3_ENDPOINT'),
      forcePathStyle: true,
      credentialsSource: 'the environment',
    }).listBackups(
      policyKeyPrefix({
        prefix: policy.prefix,
        namespace: policy.namespace,
        policy: policy.name,
        type: 'binary',
      }),
    );
    expect(entries).toHaveLength(1);
    backup = entries[0];
  }, 300_000);

  afterAll(async () => {
    await world?.stop();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  }, 120_000);

  it('stores the backup and every WAL object encrypted for the policy’s recipient', async () => {
    expect(backup?.manifest.encryption).toEqual({
      format: 'age',
      recipients: [key.fingerprint],
    });
    const names = await walNames(walStoreOf(world?.policy ?? ({} as never)));
    expect(names.length).toBeGreaterThan(2);
    expect(names.filter((name) => !name.endsWith('.age'))).toEqual([]);
  });

  it('restores exactly the markers committed at or before T with --identity', async () => {
    const { policy } = world ?? ({} as never);
    const endMicros = Date.parse(backup?.manifest.completedAt ?? '') * 1000;
    const after = markers.filter((marker) => marker.micros > endMicros + 500_000);
    const chosen = after[Math.floor(after.length / 2)];
    if (chosen === undefined) throw new Error('no marker half a second after the backup');
    const targetMicros = chosen.micros + 50_000;
    const parent = await restoreParentDir();
    try {
      const target = join(parent, 'data');
      const run = await runRestore(
        [
          '-f',
          policy.file,
          '--target-dir',
          target,
          '--target-time',
          instant(targetMicros),
          '--identity',
          key.path,
        ],
        parent,
      );
      expect(run.code, `${run.stdout}\n${run.stderr}`).toBe(0);
      const settings = await readFile(join(target, 'postgresql.auto.conf'), 'utf8');
      expect(settings).toContain(`--identity ${key.path}`);
      expect(settings).not.toContain('AGE-SECRET-KEY');
      const server = await startRestoredServer(target, walTestHost(104));
      try {
        await waitFor(
          'the end of recovery (promoted at the target)',
          () =>
            withClient(server.client('postgres'), async (client) => {
              const result = await client.query<{ recovering: boolean }>(
                'SELECT pg_is_in_recovery() AS recovering',
              );
              return result.rows[0]?.recovering === false;
            }),
          180_000,
        );
        const ids = await withClient(server.client('postgres'), async (client) => {
          const result = await client.query<{ id: string }>(
            'SELECT id::text FROM marker ORDER BY marker.id',
          );
          return result.rows.map((row) => row.id);
        });
        expect(ids).toEqual(
          markers.filter((marker) => marker.micros <= targetMicros).map((marker) => marker.id),
        );
        // Committed after the backup ended: only the bucket's (encrypted) WAL holds it.
        expect(ids).toContain(chosen.id);
      } finally {
        await server.stop();
      }
    } finally {
      await rm(parent, { recursive: true, force: true });
    }
  }, 300_000);

  /** A restore that must fail before downloading anything: its stderr. */
  async function refusedRestore(identity: readonly string[]): Promise<string> {
    const { policy } = world ?? ({} as never);
    const newest = markers.at(-1);
    if (newest === undefined) throw new Error('no markers');
    const parent = await restoreParentDir();
    try {
      const target = join(parent, 'data');
      const run = await runRestore(
        [
          '-f',
          policy.file,
          '--target-dir',
          target,
          '--target-time',
          instant(newest.micros - 200_000),
          ...identity,
        ],
        parent,
      );
      expect(run.code, run.stdout).toBe(1);
      expect(run.leftInParent).toEqual([]);
      expect(await stat(target).catch(() => undefined)).toBeUndefined();
      return run.stderr;
    } finally {
      await rm(parent, { recursive: true, force: true });
    }
  }

  it('refuses without an identity, naming the recipient, before anything is downloaded', async () => {
    const stderr = await refusedRestore([]);
    expect(stderr).toContain(`encrypted for recipient ${key.fingerprint}`);
    expect(stderr).toContain('no identity was given');
    expect(stderr).toContain('--identity FILE');
  }, 120_000);

  it('refuses another key, naming both fingerprints, before anything is downloaded', async () => {
    const stderr = await refusedRestore(['--identity', otherKey.path]);
    expect(stderr).toContain(`encrypted for recipient ${key.fingerprint}`);
    expect(stderr).toContain(otherKey.fingerprint);
    expect(stderr).not.toContain('AGE-SECRET-KEY');
  }, 120_000);

  it('the point-in-time drill passes with --identity, reaching its target exactly', async () => {
    const { policy } = world ?? ({} as never);
    const run = await runVerify(
      ['-f', policy.file, '--type', 'point-in-time', '--identity', key.path],
      { env: runEnvironment(SCRATCH_RECEIVER_ENV) },
    );
    expect(run.code, `${run.stdout}\n${run.stderr}`).toBe(0);
    expect(run.stdout).toContain(`Passed: ${backup?.key}`);
    expect(run.stdout).toMatch(/replayed the transaction committed at (\S+) and stopped before/);
  }, 300_000);

  it('the point-in-time drill with another key fails naming the recipient, downloading nothing', async () => {
    const { policy } = world ?? ({} as never);
    const run = await runVerify(
      ['-f', policy.file, '--type', 'point-in-time', '--identity', otherKey.path],
      { env: runEnvironment(SCRATCH_RECEIVER_ENV) },
    );
    expect(run.code, run.stdout).toBe(1);
    expect(run.stdout).toContain(`Failed: ${backup?.key}`);
    expect(run.stdout).toContain(`encrypted for recipient ${key.fingerprint}`);
    expect(run.stdout).toContain(otherKey.fingerprint);
    expect(run.leftInWorkDir).toEqual([]);
  }, 120_000);
});
