/**
 * Point-in-time restore (issue 16): markers stamped with clock_timestamp() are committed every
 * 100 ms while the receiver streams WAL into the bucket and two binary backups are taken.
 * `pgbackup restore --target-time T` restores exactly the markers committed at or before T
 * (none after, none missing): T well after the newer backup, T between its start and end (the
 * older backup is chosen), T right after its end, and after a failover on timeline 2. A target
 * past the newest archived WAL, and one after a gap, fail before anything is downloaded with
 * the latest reachable instant in the message.
 */
import { readdir, readFile, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseLsn, segmentOf } from '../../../src/retention/wal-names.js';
import { type CatalogEntry, createS3Store, policyKeyPrefix } from '../../../src/storage/index.js';
import { withClient } from '../../harness/postgres.js';
import { type RestoredServer, startRestoredServer } from '../../harness/restore.js';
import { requireEnv } from '../../harness/variables.js';
import type { ScratchPair } from '../logical/scratch-pair.js';
import {
  bucketContinuity,
  type MarkedReceiver,
  type Marker,
  SEGMENT_SIZE,
  type StartedReceiver,
  startMarkedReceiver,
  type WalPolicy,
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

/** The ids of the markers committed at or before `micros`, as the restored server must hold them. */
function markersUpTo(markers: readonly Marker[], micros: number): string[] {
  return markers.filter((marker) => marker.micros <= micros).map((marker) => marker.id);
}

describe('pgbackup restore to a point in time', () => {
  let world: MarkedReceiver;
  let pair: ScratchPair;
  let policy: WalPolicy;
  let receiver: StartedReceiver | undefined;
  const markers: Marker[] = [];
  let backups: CatalogEntry[] = [];
  let restoredHost = 84;

  /** Restores to `args`, starts the server, waits for the end of recovery; the marker ids it holds. */
  async function restoreAndRead(
    args: readonly string[],
    options: { paused?: boolean } = {},
  ): Promise<{ ids: string[]; stdout: string }> {
    const parent = await restoreParentDir();
    try {
      const target = join(parent, 'data');
      const run = await runRestore(['-f', policy.file, '--target-dir', target, ...args], parent);
      expect(run.code, `${run.stdout}\n${run.stderr}`).toBe(0);
      // The bucket's access lies beside the data directory, private; no secret in the settings.
      const access = `${target}.pgbackup-recovery`;
      expect((await stat(access)).mode & 0o777).toBe(0o700);
      expect((await stat(join(access, 'credentials'))).mode & 0o777).toBe(0o600);
      expect((await stat(join(access, 'policy.yaml'))).mode & 0o777).toBe(0o600);
      const settings = await readFile(join(target, 'postgresql.auto.conf'), 'utf8');
      expect(settings).toContain(`wal-fetch %f %p -f ${access}/policy.yaml`);
      expect(settings).not.toContain(requireEnv('AWS_SECRET_ACCESS_KEY'));
      expect(await stat(join(target, 'recovery.signal'))).toBeDefined();
      restoredHost += 1;
      const server = await startRestoredServer(target, walTestHost(restoredHost));
      try {
        if (options.paused === true) await readWhilePaused(server);
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
        return { ids, stdout: run.stdout };
      } finally {
        await server.stop();
      }
    } finally {
      await rm(parent, { recursive: true, force: true });
    }
  }

  /** Waits for recovery to pause at the target, checks it is read-only there, and resumes it. */
  async function readWhilePaused(server: RestoredServer): Promise<void> {
    await waitFor(
      'recovery paused at the target',
      () =>
        withClient(server.client('postgres'), async (client) => {
          const result = await client.query<{ state: string }>(
            'SELECT pg_get_wal_replay_pause_state() AS state',
          );
          return result.rows[0]?.state === 'paused';
        }),
      180_000,
    );
    await withClient(server.client('postgres'), async (client) => {
      const recovering = await client.query<{ recovering: boolean }>(
        'SELECT pg_is_in_recovery() AS recovering',
      );
      expect(recovering.rows[0]?.recovering).toBe(true);
      await client.query('SELECT pg_wal_replay_resume()');
    });
  }

  /** A restore that must fail before downloading anything: its stderr. */
  async function refusedRestore(args: readonly string[]): Promise<string> {
    const parent = await restoreParentDir();
    try {
      const target = join(parent, 'data');
      const run = await runRestore(['-f', policy.file, '--target-dir', target, ...args], parent);
      expect(run.code, run.stdout).toBe(1);
      // Nothing downloaded, no target made, nothing left beside it.
      expect(run.leftInParent).toEqual([]);
      expect(await stat(target).catch(() => undefined)).toBeUndefined();
      return run.stderr;
    } finally {
      await rm(parent, { recursive: true, force: true });
    }
  }

  beforeAll(async () => {
    world = await startMarkedReceiver({
      octets: { primary: 80, replica: 81 },
      policy: { name: 'pitr' },
    });
    ({ pair, policy, receiver } = world);
    const stopMarkers = world.startMarkers(markers);
    await sleep(1500);
    await world.binaryBackup('2026-03-01T01:30:00Z');
    await sleep(1500);
    await world.binaryBackup('2026-03-02T01:30:00Z');
    for (let round = 0; round < 3; round += 1) {
      await sleep(1500);
      await withClient(pair.primary.client('postgres'), (client) =>
        client.query('SELECT pg_switch_wal()'),
      );
    }
    await sleep(1500);
    await stopMarkers();
    await world.waitArchived();
    const store = createS3Store({
      bucket: policy.bucket,
      region: requireEnv('AWS_REGION'),
      endpoint: requireEnv('PGBACKUP_S3_ENDPOINT'),
      forcePathStyle: true,
      credentialsSource: 'the environment',
    });
    backups = (
      await store.listBackups(
        policyKeyPrefix({
          prefix: policy.prefix,
          namespace: policy.namespace,
          policy: policy.name,
          type: 'binary',
        }),
      )
    ).sort((a, b) => a.manifest.completedAt.localeCompare(b.manifest.completedAt));
    expect(backups).toHaveLength(2);
  }, 300_000);

  afterAll(async () => {
    await world?.stop();
  }, 120_000);

  const endOf = (entry: CatalogEntry | undefined) =>
    Date.parse(entry?.manifest.completedAt ?? '') * 1000;
  const startOf = (entry: CatalogEntry | undefined) =>
    Date.parse(entry?.manifest.server.startedAt ?? entry?.manifest.startedAt ?? '') * 1000;

  it('restores exactly the markers committed at or before T, well after the newer backup', async () => {
    const after = markers.filter((marker) => marker.micros > endOf(backups[1]) + 1_000_000);
    const chosen = after[Math.floor(after.length / 2)];
    if (chosen === undefined) throw new Error('no marker a second after the newer backup');
    const targetMicros = chosen.micros + 50_000;
    const { ids, stdout } = await restoreAndRead(['--target-time', instant(targetMicros)]);
    expect(stdout).toContain(`from backup   ${backups[1]?.key}`);
    expect(ids).toEqual(markersUpTo(markers, targetMicros));
    console.log(
      `target ${instant(targetMicros)}: ${ids.length} markers restored of ${markers.length}, newest ${ids.at(-1)}`,
    );
  });

  it('restores from the older backup when T lies between the newer backup start and end', async () => {
    const during = markers.filter(
      (marker) => marker.micros > startOf(backups[1]) && marker.micros + 60_000 < endOf(backups[1]),
    );
    const chosen = during[Math.floor(during.length / 2)];
    if (chosen === undefined) throw new Error('no marker was committed during the newer backup');
    const targetMicros = chosen.micros + 50_000;
    const { ids, stdout } = await restoreAndRead(['--target-time', instant(targetMicros)]);
    expect(stdout).toContain(`from backup   ${backups[0]?.key}`);
    expect(ids).toEqual(markersUpTo(markers, targetMicros));
  });

  it('restores to a WAL position: the markers whose commit lies before it', async () => {
    const after = markers.filter((marker) => marker.micros > endOf(backups[1]) + 1_000_000);
    const chosen = after[Math.floor(after.length / 3)];
    if (chosen === undefined) throw new Error('no marker a second after the newer backup');
    const { ids } = await restoreAndRead(['--target-lsn', chosen.lsnAfter]);
    expect(ids).toEqual(
      markers.filter((marker) => Number(marker.id) <= Number(chosen.id)).map((marker) => marker.id),
    );
  });

  it('pauses at the target with --pause, and is promoted once resumed', async () => {
    const after = markers.filter((marker) => marker.micros > endOf(backups[1]) + 1_000_000);
    const chosen = after[Math.floor((after.length * 2) / 3)];
    if (chosen === undefined) throw new Error('no marker a second after the newer backup');
    const targetMicros = chosen.micros + 50_000;
    const { ids, stdout } = await restoreAndRead(
      ['--target-time', instant(targetMicros), '--pause'],
      {
        paused: true,
      },
    );
    expect(stdout).toContain('pauses there');
    expect(ids).toEqual(markersUpTo(markers, targetMicros));
  });

  it('restores to a target right after the newer backup end', async () => {
    const chosen = markers.find((marker) => marker.micros > endOf(backups[1]));
    if (chosen === undefined) throw new Error('no marker after the newer backup');
    const targetMicros = chosen.micros + 50_000;
    const { ids, stdout } = await restoreAndRead(['--target-time', instant(targetMicros)]);
    expect(stdout).toContain(`from backup   ${backups[1]?.key}`);
    expect(ids).toEqual(markersUpTo(markers, targetMicros));
  });

  it('refuses a target past the newest archived WAL before downloading, naming the latest reachable instant', async () => {
    const newest = markers.at(-1);
    if (newest === undefined) throw new Error('no markers');
    const stderr = await refusedRestore([
      '--target-time',
      // Later than anything archived: the server commits on its own too (autovacuum, analyze).
      instant(Date.now() * 1000 + 3_600_000_000),
    ]);
    expect(stderr).toMatch(
      /lies beyond the newest archived WAL: the latest reachable instant is just before \d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}\+00/,
    );
    // The newest commit archived is the newest marker's (or a later commit of the server).
    const reported = /just before (\S+ \S+)\+00/.exec(stderr)?.[1] ?? '';
    expect(Date.parse(`${reported.replace(' ', 'T')}Z`)).toBeGreaterThanOrEqual(
      Math.floor(newest.micros / 1000),
    );
    expect(stderr).toContain('Nothing of the backup was downloaded');
  });

  it('refuses a target before the oldest backup ends, saying why', async () => {
    const first = markers[0];
    if (first === undefined) throw new Error('no markers');
    const stderr = await refusedRestore(['--target-time', instant(first.micros)]);
    expect(stderr).toContain('a backup is usable only from its end');
    expect(stderr).toContain(backups[0]?.key ?? 'the oldest');
  });

  it('restores a target on timeline 2 after a failover', async () => {
    await waitFor(
      'the replica to replay the primary',
      () =>
        withClient(pair.replica.client('postgres'), async (client) => {
          const result = await client.query<{ count: string }>(
            'SELECT count(*)::text AS count FROM marker',
          );
          return Number(result.rows[0]?.count) === markers.length;
        }),
      60_000,
    );
    await pair.primary.stop();
    await withClient(pair.replica.client('postgres'), (client) =>
      client.query('SELECT pg_promote(true, 60)'),
    );
    const store = walStoreOf(policy);
    await waitFor(
      'timeline 2 and its history file in the bucket',
      async () =>
        (await receiver?.status())?.timeline === 2 &&
        (await walNames(store)).includes('00000002.history'),
      60_000,
      receiver,
    );
    const timeline2: Marker[] = [];
    const stopMarkers = world.startMarkers(timeline2, pair.replica);
    await sleep(3000);
    await stopMarkers();
    markers.push(...timeline2);
    await world.waitArchived(pair.replica);
    const chosen = timeline2[Math.floor(timeline2.length / 2)];
    if (chosen === undefined) throw new Error('no marker on timeline 2');
    const targetMicros = chosen.micros + 50_000;
    const { ids } = await restoreAndRead(['--target-time', instant(targetMicros)]);
    expect(ids).toEqual(markersUpTo(markers, targetMicros));
    expect(ids).toContain(chosen.id);
  });

  it('refuses a target after a gap in the archived WAL before downloading, naming the latest reachable instant', async () => {
    const store = walStoreOf(policy);
    const continuity = await bucketContinuity(store);
    const stop = parseLsn(backups[1]?.manifest.server.stopLsn ?? '') ?? 0n;
    const newestSegment = segmentOf((continuity.newestLsn ?? 0n) - 1n, SEGMENT_SIZE);
    // A completed segment of timeline 1 after the newer backup's end, not the newest.
    const names = (await walNames(store)).filter((name) =>
      /^00000001[0-9A-F]{16}(\.zst)?$/.test(name),
    );
    const victim = names.find((name) => {
      const segment = BigInt(`0x${name.slice(8, 16)}`) * 256n + BigInt(`0x${name.slice(16, 24)}`);
      return segment > segmentOf(stop, SEGMENT_SIZE) + 1n && segment < newestSegment - 1n;
    });
    if (victim === undefined) throw new Error(`no segment to remove among ${names.join(', ')}`);
    await store.delete([victim]);
    const newest = markers.at(-1);
    if (newest === undefined) throw new Error('no markers');
    const stderr = await refusedRestore(['--target-time', instant(newest.micros - 100_000)]);
    expect(stderr).toContain('lies inside or after a gap in the archived WAL');
    expect(stderr).toMatch(
      /WAL is missing from the bucket on timeline 1 from \S+ to \S+; the latest reachable instant is just before \d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}\+00/,
    );
    console.log(`removed ${victim}; refusal: ${stderr.trim()}`);
    expect(await readdir(dirname(policy.file))).toContain('policy.yaml');
  });
});
