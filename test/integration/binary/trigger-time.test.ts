/**
 * The trigger time decides a run's period and lateness (DESIGN.md §1): the CronJob's
 * scheduled time on the run's Job, a hand-made Job's creation time, or `--at`; never when the
 * run got its turn. A day the line skips, and a trigger that came too late, are decided before
 * any I/O beyond the policy and the Job.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { KubeClient } from '../../../src/kube/kube-client.js';
import { loadKubeConnection } from '../../../src/kube/kube-config.js';
import { runInCluster } from '../../../src/runner/index.js';
import { formatKeyTimestamp } from '../../../src/storage/index.js';
import { onTimeSchedule } from '../../e2e/on-time-schedule.js';
import { kubectl, kubectlApply } from '../../harness/cluster-objects.js';
import { startPgbackupRun } from '../../harness/pgbackup-run.js';
import { createRunnerJob } from '../../harness/runner-job.js';
import {
  artifactKeyOf,
  listBackupObjects,
  type RunnerPolicy,
  setUpRunnerPolicy,
} from '../../harness/runner-policy.js';
import { requireEnv } from '../../harness/variables.js';

/** Nothing listens here (the test's private subnet): a run that connects fails at once. */
const NOWHERE = '127.0.32.1:9';

const HOUR_MS = 3_600_000;

describe('the trigger time of a run in a cluster', () => {
  let reachable: RunnerPolicy;
  let unreachable: RunnerPolicy;
  const now = Date.now();
  const schedule = onTimeSchedule(now);

  beforeAll(async () => {
    [reachable, unreachable] = await Promise.all([
      setUpRunnerPolicy({
        fixture: 'binary/in-cluster.yaml',
        podFixture: 'binary/postgres-pod.yaml',
        podAddresses: [requireEnv('PGBACKUP_REPLICA'), requireEnv('PGBACKUP_PRIMARY')],
        // Today's daily fired two minutes ago: a Job made by hand now is on time.
        edit: (policy) => Object.assign(policy.spec, { schedule }),
      }),
      setUpRunnerPolicy({
        fixture: 'binary/in-cluster.yaml',
        podFixture: 'binary/postgres-pod.yaml',
        podAddresses: [],
        edit: (policy) => {
          policy.spec.target.selector = undefined;
          policy.spec.target.hosts = [NOWHERE];
          policy.spec.binary.lines = { daily: 7, monthly: 3 };
        },
      }),
    ]);
  });

  const runArgs = (policy: RunnerPolicy, line: string) => [
    '--policy',
    `${policy.namespace}/${policy.policyName}`,
    '--type',
    'binary',
    '--line',
    line,
  ];

  it("keeps a run queued past its lateness (on the test's clock) in its trigger's period", async () => {
    const { namespace, policyName } = reachable;
    const job = await createRunnerJob(namespace, 'orders-binary-daily-by-hand');
    // Another run holds the Lease.
    await kubectlApply(namespace, [
      {
        apiVersion: 'coordination.k8s.io/v1',
        kind: 'Lease',
        metadata: { name: `${policyName}-binary` },
        spec: {
          holderIdentity: 'another-run',
          leaseDurationSeconds: 3600,
          renewTime: new Date().toISOString().replace(/\.(\d{3})Z$/, '.$1000Z'),
        },
      },
    ]);
    let offsetMs = 0;
    const messages: string[] = [];
    const logger = pino(
      new Writable({
        write(chunk, _encoding, done) {
          messages.push(String(JSON.parse(chunk.toString()).msg));
          done();
        },
      }),
    );
    const client = await KubeClient.create(
      await loadKubeConnection({ KUBECONFIG: reachable.env.KUBECONFIG }),
    );
    try {
      const running = runInCluster({
        client,
        namespace,
        policy: policyName,
        type: 'binary',
        line: 'daily',
        atMs: undefined,
        podName: job.podName,
        localDir: await mkdtemp(join(tmpdir(), 'pgbackup-local-')),
        pgRoot: undefined,
        identity: 'queued-run',
        requestChecksumCalculation: 'WHEN_REQUIRED',
        logger,
        clock: () => Date.now() + offsetMs,
      });
      await vi.waitFor(
        () => expect(messages).toContain('waiting for the Lease held by another run'),
        {
          timeout: 60_000,
          interval: 100,
        },
      );
      // The other run takes seven hours, past the default lateness of six.
      offsetMs = 7 * HOUR_MS;
      await kubectl([
        'patch',
        'lease',
        `${policyName}-binary`,
        '-n',
        namespace,
        '--type=merge',
        '-p',
        '{"spec":{"holderIdentity":null}}',
      ]);
      const result = await running;

      expect(result.outcome, JSON.stringify(result)).toBe('completed');
      if (result.outcome !== 'completed') return;
      expect(result.key).toContain(`/daily/`);
      expect(result.manifest.runAt).toBe(new Date(job.createdAtMs).toISOString());
    } finally {
      client.close();
    }
  });

  it("decides the period from the CronJob's scheduled time on the run's Job, found through its pod", async () => {
    // A Monday's daily, run today: by the clock it would be months late.
    const scheduledAt = `2026-03-02T${schedule.time}:00Z`;
    const job = await createRunnerJob(reachable.namespace, 'orders-binary-daily-1', scheduledAt);
    const run = await startPgbackupRun(runArgs(reachable, 'daily'), {
      ...reachable.env,
      HOSTNAME: job.podName,
    }).outcome;

    expect(run.code, run.stderr).toBe(0);
    const stamp = formatKeyTimestamp(Date.parse(scheduledAt));
    const backup = (await listBackupObjects(reachable.namespace)).find(
      (found) => found.metadata.name === `orders-binary-daily-${stamp.toLowerCase()}`,
    );
    expect(backup?.status).toMatchObject({ phase: 'Completed', slotLabel: 'mon' });
    expect(artifactKeyOf(backup)).toContain(`/daily/4/${stamp}-`);
  });

  it('leaves a day the line skips without a Backup and without touching PostgreSQL (exit 0)', async () => {
    const run = await startPgbackupRun(
      [...runArgs(unreachable, 'monthly'), '--at', '2026-04-29T01:30:00Z'],
      unreachable.env,
    ).outcome;

    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^skipped \(NotFireDay\): 2026-04-29 \(UTC\) is not a fire day/);
    expect(await listBackupObjects(unreachable.namespace)).toEqual([]);
  });

  it('records a trigger later than the lateness as Failed, naming the lateness, before connecting', async () => {
    const run = await startPgbackupRun(
      [...runArgs(unreachable, 'daily'), '--at', '2026-03-02T09:00:00Z'],
      unreachable.env,
    ).outcome;

    expect(run.code).toBe(1);
    const [backup, ...others] = await listBackupObjects(unreachable.namespace);
    expect(others).toEqual([]);
    expect(backup?.metadata.name).toBe(
      `orders-binary-daily-${formatKeyTimestamp(Date.parse('2026-03-02T09:00:00Z')).toLowerCase()}`,
    );
    expect(backup?.status).toMatchObject({ phase: 'Failed' });
    const message = String(backup?.status?.message);
    expect(message).toContain('was due at 2026-03-02 01:00 UTC and was triggered 8h later');
    expect(message).toContain('more than the lateness of 6h (spec.schedule.lateness)');
    expect(message).toContain(
      `pgbackup backup --policy ${unreachable.namespace}/orders --type binary`,
    );
    expect(run.stderr).toContain('more than the lateness of 6h');
  });
});
