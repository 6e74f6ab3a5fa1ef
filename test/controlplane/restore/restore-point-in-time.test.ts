/**
 * A Restore to a point in time (issue 16): the environment's primary streams its WAL into the
 * bucket (a receiver run from a policy file naming the cluster policy's bucket, prefix,
 * namespace and name), an on-demand Backup's Job takes the base backup, markers are committed
 * 200 ms apart, and a Restore with `targetTime` between two markers is run by its Job on a
 * directory standing for the claim. The Job runs the recovery itself: the claim then holds a
 * promoted data directory with no recovery settings and no bucket access, which a plain
 * PostgreSQL starts, serving exactly the markers committed at or before the target.
 */
import { mkdtemp, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { API_VERSION, RESTORE_PLURAL, WAL_SLOT_PREFIX } from '../../../src/api/index.js';
import type { KubeObject } from '../../../src/kube/index.js';
import { createPostgresPod } from '../../harness/cluster-objects.js';
import { fixtureYaml } from '../../harness/fixtures.js';
import { superuserClient, withClient } from '../../harness/postgres.js';
import { startRestoredServer } from '../../harness/restore.js';
import { testBucket } from '../../harness/s3.js';
import { requireEnv } from '../../harness/variables.js';
import {
  bucketContinuity,
  currentLsn,
  type StartedReceiver,
  startReceiver,
  type WalPolicy,
  waitFor,
  waitStreaming,
  walStoreOf,
} from '../../integration/wal/receiver-harness.js';
import {
  applyRunnerPolicy,
  type ControllerTestEnv,
  createBackup,
  pgbackupPath,
  useRunningController,
  waitForJob,
} from '../controller/controller-setup.js';
import { runLikeThePod } from '../controller/job-pod.js';
import { claimDir, runRestorePod } from './restore-pod.js';

const TABLE = 'restore_pitr_markers';
const RESTORED_HOST = `${process.env.PGBACKUP_ENV_SUBNET ?? '127.0.0'}.78`;

interface Marker {
  readonly id: string;
  readonly micros: number;
}

/** An instant in microseconds as RFC 3339 in UTC. */
function instant(micros: number): string {
  const iso = new Date(Math.floor(micros / 1000)).toISOString();
  return `${iso.slice(0, 19)}.${String(micros % 1_000_000).padStart(6, '0')}Z`;
}

/** The receiver's policy file: the cluster policy's bucket, prefix, namespace and name. */
async function writeReceiverPolicy(env: ControllerTestEnv): Promise<WalPolicy> {
  const cluster = await env.client.request<
    KubeObject & { spec: { storage: { s3: { prefix: string } } } }
  >({
    verb: 'get',
    path: pgbackupPath(env.namespace, 'backuppolicies', 'orders'),
    what: 'get policy',
  });
  const policy = fixtureYaml<{
    metadata: Record<string, string>;
    spec: Record<string, Record<string, unknown>>;
  }>('wal/policy.yaml');
  const prefix = cluster.spec.storage.s3.prefix;
  policy.metadata = { name: 'orders', namespace: env.namespace };
  policy.spec.target = { ...policy.spec.target, hosts: [requireEnv('PGBACKUP_PRIMARY')] };
  policy.spec.continuous = { ...policy.spec.continuous, uploadInterval: '1s' };
  policy.spec.storage = {
    s3: {
      bucket: testBucket(),
      prefix,
      endpoint: requireEnv('PGBACKUP_S3_ENDPOINT'),
      region: requireEnv('AWS_REGION'),
      forcePathStyle: true,
    },
  };
  const dir = await mkdtemp(join(tmpdir(), 'pgbackup-wal-'));
  const file = join(dir, 'policy.yaml');
  await writeFile(file, stringify(policy));
  return { file, name: 'orders', namespace: env.namespace, prefix, bucket: testBucket(), dir };
}

describe('Restore to a point in time into a claim', () => {
  const running = useRunningController();
  let receiver: StartedReceiver | undefined;
  let walPolicy: WalPolicy;
  const markers: Marker[] = [];
  let backupKey = '';

  async function commitMarker(): Promise<void> {
    const row = await withClient(superuserClient('primary'), async (client) => {
      const result = await client.query<{ id: string; micros: string }>(
        `INSERT INTO ${TABLE} (at) VALUES (clock_timestamp()) RETURNING id::text, (extract(epoch FROM at) * 1000000)::bigint::text AS micros`,
      );
      return result.rows[0];
    });
    if (row !== undefined) markers.push({ id: row.id, micros: Number(row.micros) });
  }

  beforeAll(async () => {
    const { env } = running;
    await withClient(superuserClient('primary'), async (client) => {
      await client.query(`DROP TABLE IF EXISTS ${TABLE}`);
      await client.query(
        `CREATE TABLE ${TABLE} (id bigserial PRIMARY KEY, at timestamptz NOT NULL)`,
      );
    });
    await applyRunnerPolicy(env, {});
    for (const address of [requireEnv('PGBACKUP_REPLICA'), requireEnv('PGBACKUP_PRIMARY')]) {
      await createPostgresPod(env.namespace, { fixture: 'controller/postgres-pod.yaml', address });
    }
    walPolicy = await writeReceiverPolicy(env);
    // The environment's replication role streams, as the policy's runner would.
    const started = startReceiver(walPolicy, {});
    receiver = started;
    await waitStreaming(started);
    await createBackup(env, 'pitr-base', { type: 'binary' });
    const run = await runLikeThePod(env, (await waitForJob(env, 'pitr-base-run')).spec);
    expect(run.code, run.stderr).toBe(0);
    const backup = await env.client.request<
      KubeObject & { status?: { artifact?: { key: string } } }
    >({
      verb: 'get',
      path: pgbackupPath(env.namespace, 'backups', 'pitr-base'),
      what: 'get Backup',
    });
    backupKey = backup.status?.artifact?.key ?? '';
    for (let index = 0; index < 6; index += 1) {
      await commitMarker();
      await sleep(200);
    }
    const lsn = await withClient(superuserClient('primary'), async (client) => {
      await client.query('SELECT pg_switch_wal()');
      return currentLsn(client);
    });
    await waitFor(
      'the bucket reaching the markers',
      async () => ((await bucketContinuity(walStoreOf(walPolicy))).newestLsn ?? 0n) >= lsn,
      120_000,
      started,
    );
  }, 400_000);

  afterAll(async () => {
    await receiver?.stop();
    await withClient(superuserClient('primary'), async (client) => {
      await client.query(
        `SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name LIKE '${WAL_SLOT_PREFIX}%' AND NOT active`,
      );
      await client.query(`DROP TABLE IF EXISTS ${TABLE}`);
    });
  }, 120_000);

  it('recovers to targetTime in the Job and leaves a promoted directory any server starts', async () => {
    const { env } = running;
    const third = markers[2];
    if (third === undefined) throw new Error('the markers were not committed');
    const targetMicros = third.micros + 50_000;
    await env.client.request({
      verb: 'create',
      path: `/api/v1/namespaces/${env.namespace}/persistentvolumeclaims`,
      body: {
        apiVersion: 'v1',
        kind: 'PersistentVolumeClaim',
        metadata: { name: 'pitr-claim' },
        spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
      },
      what: 'create claim',
    });
    await env.client.request({
      verb: 'create',
      path: pgbackupPath(env.namespace, RESTORE_PLURAL),
      body: {
        apiVersion: API_VERSION,
        kind: 'Restore',
        metadata: { name: 'to-third-marker' },
        spec: { policy: 'orders', targetTime: instant(targetMicros), pvc: { name: 'pitr-claim' } },
      },
      what: 'create Restore',
    });
    const job = await waitForJob(env, 'to-third-marker-restore');
    const local = await claimDir();
    const run = await runRestorePod(env, job.spec, local);
    expect(run.code, `${run.stdout}\n${run.stderr}`).toBe(0);

    const restore = await env.client.request<
      KubeObject & {
        status?: {
          phase?: string;
          backup?: string;
          restoreSeconds?: number;
          reached?: { lsn?: string; lastTransactionTime?: string; timeline?: number };
        };
      }
    >({
      verb: 'get',
      path: pgbackupPath(env.namespace, RESTORE_PLURAL, 'to-third-marker'),
      what: 'get Restore',
    });
    expect(restore.status).toMatchObject({ phase: 'Succeeded', backup: backupKey });
    expect(restore.status?.reached?.timeline).toBeGreaterThanOrEqual(2);
    expect(restore.status?.reached?.lastTransactionTime).toMatch(/^\d{4}-\d{2}-\d{2} /);
    console.log(
      `point-in-time restore into the claim: ${restore.status?.restoreSeconds} s, reached ${JSON.stringify(restore.status?.reached)}`,
    );

    // Only the data directory on the claim: no bucket access beside it, no recovery left in it.
    expect(await readdir(local)).toEqual(['pgdata']);
    const dataDir = join(local, 'pgdata');
    expect(await stat(join(dataDir, 'recovery.signal')).catch(() => undefined)).toBeUndefined();
    const settings = await readFile(join(dataDir, 'postgresql.auto.conf'), 'utf8');
    expect(settings).not.toMatch(/restore_command|recovery_target/);

    const server = await startRestoredServer(dataDir, RESTORED_HOST);
    try {
      const { recovering, ids } = await withClient(server.client('postgres'), async (client) => {
        const state = await client.query<{ recovering: boolean }>(
          'SELECT pg_is_in_recovery() AS recovering',
        );
        const rows = await client.query<{ id: string }>(
          `SELECT id::text FROM ${TABLE} ORDER BY id`,
        );
        return { recovering: state.rows[0]?.recovering, ids: rows.rows.map((row) => row.id) };
      });
      expect(recovering).toBe(false);
      expect(ids).toEqual(markers.filter((m) => m.micros <= targetMicros).map((m) => m.id));
      expect(ids).toHaveLength(3);
    } finally {
      await server.stop();
    }
  }, 400_000);
});
