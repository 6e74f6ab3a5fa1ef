/**
 * The point-in-time drill of an in-cluster policy, as its verify CronJob runs it
 * (`--scheduled`, no `--type`): a policy with binary backups and spec.continuous gets the
 * binary drill, then the point-in-time one, whose result (with its target, the instant
 * reached and the restore's duration) ends up in status.verification of the binary Backup.
 * The receiver runs as the controller's Deployment would (`wal-receive --policy`).
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ContinuousStatus } from '../../../src/api/index.js';
import { walSlotNameOf } from '../../../src/postgres/index.js';
import { formatLsn } from '../../../src/retention/wal-names.js';
import { kubectl } from '../../harness/cluster-objects.js';
import { type StartedRun, startPgbackup, startPgbackupRun } from '../../harness/pgbackup-run.js';
import { createTestDatabase, superuserClient, withClient } from '../../harness/postgres.js';
import {
  artifactKeyOf,
  listBackupObjects,
  type RunnerPolicy,
  setUpRunnerPolicy,
} from '../../harness/runner-policy.js';
import { testBucket } from '../../harness/s3.js';
import { requireEnv } from '../../harness/variables.js';
import { dropTestDatabase } from '../binary/policy-file.js';
import { bucketContinuity, currentLsn, waitFor, walStoreOf } from '../wal/receiver-harness.js';
import { giveToDrillUser, runVerify } from './verify-run.js';

async function continuousStatus(policy: RunnerPolicy): Promise<ContinuousStatus | undefined> {
  const object = JSON.parse(
    await kubectl(['get', 'backuppolicy', policy.policyName, '-n', policy.namespace, '-o', 'json']),
  ) as { status?: { continuous?: ContinuousStatus } };
  return object.status?.continuous;
}

describe('pgbackup verify --policy --scheduled of a policy with continuous protection', () => {
  let database: string;
  let policy: RunnerPolicy;
  let receiver: StartedRun | undefined;

  /** Commits `count` rows, one transaction each, on the primary. */
  async function commitRows(count: number): Promise<void> {
    await withClient(superuserClient('primary', database), async (client) => {
      for (let row = 0; row < count; row += 1) {
        await client.query('INSERT INTO ledger (at) VALUES (clock_timestamp())');
      }
    });
  }

  beforeAll(async () => {
    database = await createTestDatabase();
    await withClient(superuserClient('primary', database), (client) =>
      client.query('CREATE TABLE ledger (id bigserial PRIMARY KEY, at timestamptz NOT NULL)'),
    );
    policy = await setUpRunnerPolicy({
      fixture: 'binary/in-cluster.yaml',
      podFixture: 'binary/postgres-pod.yaml',
      podAddresses: [requireEnv('PGBACKUP_PRIMARY'), requireEnv('PGBACKUP_REPLICA')],
      edit: (document) => {
        document.spec.continuous = {
          ...document.spec.continuous,
          enabled: true,
          uploadInterval: '1s',
        };
        Object.assign(document.spec, { verify: { schedule: 'daily' } });
      },
    });
    await giveToDrillUser(policy.env.KUBECONFIG ?? '');
    const target = `${policy.namespace}/${policy.policyName}`;
    const spool = join(await mkdtemp(join(tmpdir(), 'pgbackup-wal-spool-')), 'spool');
    const started = startPgbackup(
      [
        'wal-receive',
        '--policy',
        target,
        '--spool',
        spool,
        '--metrics-address',
        `127.0.0.1:${40_000 + Math.floor(Math.random() * 10_000)}`,
        '--status-interval',
        '1',
      ],
      policy.env,
    );
    receiver = started;
    await waitFor(
      'status.continuous Streaming',
      async () => (await continuousStatus(policy))?.state === 'Streaming',
      60_000,
      started,
    );
    await commitRows(20);
    const backup = await startPgbackupRun(
      ['--policy', target, '--type', 'binary', '--line', 'daily', '--at', '2026-03-02T01:30:00Z'],
      policy.env,
    ).outcome;
    expect(backup.code, backup.stderr).toBe(0);
    await commitRows(20);
    const lsn = await withClient(superuserClient('primary'), async (client) => {
      await client.query('SELECT pg_switch_wal()');
      return currentLsn(client);
    });
    const store = walStoreOf({
      bucket: testBucket(),
      prefix: policy.prefix,
      namespace: policy.namespace,
      name: policy.policyName,
      file: '',
      dir: '',
    });
    await waitFor(
      `the bucket reaching ${formatLsn(lsn)}`,
      async () => ((await bucketContinuity(store)).newestLsn ?? 0n) >= lsn,
      60_000,
      started,
    );
    started.child.kill('SIGTERM');
    const outcome = await started.outcome;
    expect(outcome.code, outcome.stderr.slice(-3000)).toBe(0);
    receiver = undefined;
  }, 300_000);

  afterAll(async () => {
    if (receiver !== undefined && receiver.child.exitCode === null) {
      receiver.child.kill('SIGTERM');
      await receiver.outcome;
    }
    // The environment's primary is shared: its permanent slot must not outlive the test.
    const slot = walSlotNameOf(policy.namespace, policy.policyName);
    await withClient(superuserClient('primary'), (client) =>
      client.query(
        'SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1',
        [slot],
      ),
    );
    if (database !== undefined) await dropTestDatabase(database);
  }, 120_000);

  it('runs the binary drill, then the point-in-time one, recording its target, the instant reached and the restore time', async () => {
    const run = await runVerify(
      ['--policy', `${policy.namespace}/${policy.policyName}`, '--scheduled'],
      { env: policy.env },
    );

    expect(run.code, `${run.stdout}\n${run.stderr}`).toBe(0);
    const backups = await listBackupObjects(policy.namespace);
    expect(backups).toHaveLength(1);
    const [backup] = backups;
    const key = artifactKeyOf(backup);
    const first = run.stdout.indexOf(`Passed: ${key}\nthe `);
    const pointInTime = run.stdout.indexOf('restores to ');
    expect(first, run.stdout).toBeGreaterThanOrEqual(0);
    expect(pointInTime, run.stdout).toBeGreaterThan(first);
    expect(
      run.stdout.split(`recorded in Backup ${policy.namespace}/${backup?.metadata.name}`),
    ).toHaveLength(3);
    const verification = (backup?.status as { verification?: Record<string, unknown> })
      ?.verification;
    expect(verification).toMatchObject({
      result: 'Passed',
      type: 'point-in-time',
      restoreSeconds: expect.any(Number),
      message: expect.stringContaining('stopped before the'),
    });
    expect(verification?.target).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    expect(verification?.reached).toBe(verification?.target);
    console.log(`in-cluster point-in-time drill: ${JSON.stringify(verification)}`);
  });
});
