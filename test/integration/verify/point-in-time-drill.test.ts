import { setTimeout as sleep } from 'node:timers/promises';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseLsn, segmentOf } from '../../../src/retention/wal-names.js';
import {
  type CatalogEntry,
  createS3Store,
  policyKeyPrefix,
  walKeyPrefix,
} from '../../../src/storage/index.js';
import { runEnvironment } from '../../harness/pgbackup-run.js';
import { withClient } from '../../harness/postgres.js';
import { testS3Client } from '../../harness/s3.js';
import { requireEnv } from '../../harness/variables.js';
import {
  bucketContinuity,
  type MarkedReceiver,
  type Marker,
  SCRATCH_RECEIVER_ENV,
  SEGMENT_SIZE,
  startMarkedReceiver,
  type WalPolicy,
  walNames,
  walStoreOf,
} from '../wal/receiver-harness.js';
import { runVerify } from './verify-run.js';

const ENV = runEnvironment(SCRATCH_RECEIVER_ENV);

/** An RFC 3339 instant to the microsecond, as the drill prints it, in microseconds. */
function microsOf(text: string): number {
  const match = /^(.{19})\.(\d{6})Z$/.exec(text);
  if (match === null) throw new Error(`not an instant to the microsecond: ${text}`);
  return Date.parse(`${match[1]}Z`) * 1000 + Number(match[2]);
}

/** The segment number of a WAL file name of timeline 1 (compressed or not). */
function segmentNumberOf(name: string): bigint {
  return BigInt(`0x${name.slice(8, 16)}`) * 256n + BigInt(`0x${name.slice(16, 24)}`);
}

describe('pgbackup verify --type point-in-time', () => {
  let world: MarkedReceiver;
  let policy: WalPolicy;
  const markers: Marker[] = [];
  let backup: CatalogEntry;

  /** Every key under the policy's prefix (backups and WAL) with its ETag. */
  async function bucketState(): Promise<string[]> {
    const store = walStoreOf(policy);
    const wal = (await store.list()).map(
      (object) => `${object.name} ${object.sizeBytes} ${object.lastModifiedMs}`,
    );
    const backups = await createS3Store({
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
    return [...wal, ...backups.map((entry) => entry.key)].sort();
  }

  /** A completed segment of timeline 1 recovery needs from the bucket: after the backup's own WAL, not among the newest. */
  async function segmentInReplayRange(): Promise<string> {
    const store = walStoreOf(policy);
    const continuity = await bucketContinuity(store);
    const stop = parseLsn(backup.manifest.server.stopLsn ?? '') ?? 0n;
    const newestSegment = segmentOf((continuity.newestLsn ?? 0n) - 1n, SEGMENT_SIZE);
    const names = (await walNames(store)).filter((name) =>
      /^00000001[0-9A-F]{16}(\.zst)?$/.test(name),
    );
    const victim = names.find((name) => {
      const segment = segmentNumberOf(name);
      return segment > segmentOf(stop, SEGMENT_SIZE) + 1n && segment < newestSegment - 1n;
    });
    if (victim === undefined)
      throw new Error(`no segment in the replay range among ${names.join(', ')}`);
    return victim;
  }

  function walKey(name: string): string {
    return `${walKeyPrefix({ prefix: policy.prefix, namespace: policy.namespace, policy: policy.name })}${name}`;
  }

  beforeAll(async () => {
    world = await startMarkedReceiver({
      octets: { primary: 90, replica: 91 },
      policy: { name: 'pitr-drill' },
    });
    ({ policy } = world);
    const stopMarkers = world.startMarkers(markers);
    await sleep(1000);
    await world.binaryBackup('2026-03-02T01:30:00Z');
    // Segments after the backup's own WAL, so that one can be damaged or removed inside the replay range.
    for (let round = 0; round < 4; round += 1) {
      await sleep(1000);
      await withClient(world.pair.primary.client('postgres'), (client) =>
        client.query('SELECT pg_switch_wal()'),
      );
    }
    await sleep(1000);
    await stopMarkers();
    await world.waitArchived();
    // The receiver stops here: the failure cases compare the bucket before and after a drill,
    // and a running receiver keeps rewriting the newest .partial.
    await world.receiver.stop();
    const store = createS3Store({
      bucket: policy.bucket,
      region: requireEnv('AWS_REGION'),
      endpoint: requireEnv('PGBACKUP_S3_ENDPOINT'),
      forcePathStyle: true,
      credentialsSource: 'the environment',
    });
    const entries = await store.listBackups(
      policyKeyPrefix({
        prefix: policy.prefix,
        namespace: policy.namespace,
        policy: policy.name,
        type: 'binary',
      }),
    );
    expect(entries).toHaveLength(1);
    backup = entries[0] as CatalogEntry;
  }, 300_000);

  afterAll(async () => {
    // The receiver was stopped once the WAL was archived; the pair stops with it.
    await world?.stop();
  }, 120_000);

  it('restores the newest backup to the second-newest archived transaction, checks recovery stopped exactly there, then pg_amcheck', async () => {
    const run = await runVerify(['-f', policy.file, '--type', 'point-in-time'], { env: ENV });

    expect(run.code, `${run.stdout}\n${run.stderr}`).toBe(0);
    expect(run.stdout).toContain(`Passed: ${backup.key}`);
    expect(run.stdout).toContain('its objects match the manifest, pg_verifybackup passed');
    const stopped =
      /restores to (\S+): .* replayed the transaction committed at \1 and stopped before the (?:commit|abort) of transaction \d+ at (\S+), the next one archived; pg_amcheck checked (\d+) tables?/.exec(
        run.stdout,
      );
    expect(stopped, run.stdout).not.toBeNull();
    const target = microsOf(stopped?.[1] ?? '');
    const next = microsOf(stopped?.[2] ?? '');
    // After the backup's end (WAL replay beyond it), before the newest transaction, and no
    // earlier than the second-newest marker: the markers were the last writes, bar the server's own.
    expect(target).toBeGreaterThan(Date.parse(backup.manifest.completedAt) * 1000);
    expect(next).toBeGreaterThan(target);
    expect(target).toBeGreaterThanOrEqual(markers.at(-2)?.micros ?? Number.POSITIVE_INFINITY);
    expect(Number(stopped?.[3])).toBeGreaterThan(0);
    expect(run.leftInWorkDir).toEqual([]);
    const restoreMs = /"restoreMs":(\d+)/.exec(run.stderr)?.[1];
    expect(restoreMs, run.stderr).toBeDefined();
    console.log(
      `point-in-time drill: target ${stopped?.[1]}, next ${stopped?.[2]}, ${markers.length} markers, restore ${restoreMs} ms\n${run.stdout}`,
    );
  });

  it('fails on a WAL object replaced inside the replay range (its SHA-256 no longer matches), naming it, during recovery; the bucket is unchanged', async () => {
    const victim = await segmentInReplayRange();
    const s3 = testS3Client();
    const read = async (name: string) => {
      const object = await s3.send(
        new GetObjectCommand({ Bucket: policy.bucket, Key: walKey(name) }),
      );
      return { object, bytes: Buffer.from((await object.Body?.transformToByteArray()) ?? []) };
    };
    const original = await read(victim);
    // Another segment's bytes under this name, with this one's metadata (its SHA-256): they
    // decompress, and only the checksum tells them apart.
    const neighbour = (await walNames(walStoreOf(policy))).find(
      (name) =>
        /^00000001[0-9A-F]{16}\.zst$/.test(name) &&
        segmentNumberOf(name) === segmentNumberOf(victim) - 1n,
    );
    if (neighbour === undefined) throw new Error(`no segment before ${victim}`);
    const replacement = (await read(neighbour)).bytes;
    const put = (body: Buffer) =>
      s3.send(
        new PutObjectCommand({
          Bucket: policy.bucket,
          Key: walKey(victim),
          Body: body,
          Metadata: original.object.Metadata,
          ContentType: original.object.ContentType,
        }),
      );
    await put(replacement);
    try {
      const before = await bucketState();

      const run = await runVerify(['-f', policy.file, '--type', 'point-in-time'], { env: ENV });

      expect(run.code, run.stdout).toBe(1);
      expect(run.stdout).toContain(`Failed: ${backup.key}`);
      expect(run.stdout).toContain("recovery from the bucket's WAL failed");
      expect(run.stdout).toContain(`could not fetch ${victim.slice(0, 24)}: ${victim} in `);
      expect(run.stdout).toMatch(
        /is damaged: its bytes have SHA-256 [0-9a-f]{64}, but it was stored with [0-9a-f]{64}/,
      );
      expect(run.stdout).not.toContain('not accepting connections');
      expect(await bucketState()).toEqual(before);
      expect(run.leftInWorkDir).toEqual([]);
      console.log(`replaced ${victim}: ${run.stdout.trim()}`);
    } finally {
      await put(original.bytes);
    }
  });

  it('fails on a WAL segment removed from the replay range before downloading anything, naming it; the bucket is unchanged', async () => {
    const victim = await segmentInReplayRange();
    await walStoreOf(policy).delete([victim]);
    const before = await bucketState();

    const run = await runVerify(['-f', policy.file, '--type', 'point-in-time'], { env: ENV });

    expect(run.code, run.stdout).toBe(1);
    expect(run.stdout).toContain(`Failed: ${backup.key}`);
    expect(run.stdout).toContain(`WAL is missing from`);
    expect(run.stdout).toContain(`segment ${victim.slice(0, 24)} of timeline 1`);
    expect(run.stdout).toContain('Nothing was downloaded of the backup');
    expect(await bucketState()).toEqual(before);
    expect(run.leftInWorkDir).toEqual([]);
    console.log(`removed ${victim}: ${run.stdout.trim()}`);
  });
});
