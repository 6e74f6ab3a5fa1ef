import { beforeAll, describe, expect, it } from 'vitest';
import { kubectl, kubectlApply, secretObject } from '../../harness/cluster-objects.js';
import { type RunOutcome, startPgbackupRun, stderrContains } from '../../harness/pgbackup-run.js';
import {
  artifactKeyOf,
  listBackupObjects,
  runOnDemandBackup,
  setUpRunnerPolicy,
} from '../../harness/runner-policy.js';
import { testBucket } from '../../harness/s3.js';
import { requireEnv } from '../../harness/variables.js';
import { listCommitted } from './policy-file.js';

function leaseWindow(run: RunOutcome): { acquiredMs: number; releasedMs: number } {
  const lines = run.stderr.split('\n').flatMap((line) => {
    try {
      return [JSON.parse(line) as { msg?: string; time?: number }];
    } catch {
      return [];
    }
  });
  const at = (message: string) => lines.find((line) => line.msg === message)?.time ?? Number.NaN;
  return { acquiredMs: at('acquired the Lease'), releasedMs: at('released the Lease') };
}

describe('a binary run in a cluster (--policy)', () => {
  let namespace: string;
  let policyName: string;
  let prefix: string;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    ({ namespace, policyName, prefix, env } = await setUpRunnerPolicy({
      fixture: 'binary/in-cluster.yaml',
      podFixture: 'binary/postgres-pod.yaml',
      podAddresses: [requireEnv('PGBACKUP_REPLICA'), requireEnv('PGBACKUP_PRIMARY')],
    }));
  });

  const runArgs = (at: string) => [
    '--policy',
    `${namespace}/${policyName}`,
    '--type',
    'binary',
    '--line',
    'daily',
    '--at',
    at,
  ];

  it('takes the backup with its own service account and records it in a Completed Backup', async () => {
    const run = await startPgbackupRun(runArgs('2026-03-02T01:30:00Z'), env).outcome;

    expect(run.code, run.stderr).toBe(0);
    const [key] = await listCommitted(`${prefix}/${namespace}/${policyName}/binary/`);
    const backups = await listBackupObjects(namespace);
    expect(backups).toHaveLength(1);
    expect(backups[0]?.spec).toEqual({ policy: policyName, type: 'binary', line: 'daily' });
    expect(backups[0]?.status).toMatchObject({
      phase: 'Completed',
      slotLabel: 'mon',
      artifact: { bucket: testBucket(), key },
      checksum: expect.stringMatching(/^sha256:[0-9a-f]{64}$/),
      startLsn: expect.stringMatching(/\//),
      serverVersion: expect.stringMatching(/^\d+\.\d+$/),
    });
  });

  it('serializes two runs started together on the Lease', async () => {
    // A gate holds the Lease until both runs are queued, so they truly start together.
    const lease = `${policyName}-binary`;
    const now = new Date().toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
    await kubectlApply(namespace, [
      {
        apiVersion: 'coordination.k8s.io/v1',
        kind: 'Lease',
        metadata: { name: lease },
        spec: { holderIdentity: 'test-gate', leaseDurationSeconds: 3600, renewTime: now },
      },
    ]);
    const runs = [
      startPgbackupRun(runArgs('2026-03-03T01:30:00Z'), env),
      startPgbackupRun(runArgs('2026-03-04T01:30:00Z'), env),
    ];
    await Promise.all(runs.map((run) => stderrContains(run, 'waiting for the Lease')));
    await kubectl([
      'patch',
      'lease',
      lease,
      '-n',
      namespace,
      '--type=merge',
      '-p',
      '{"spec":{"holderIdentity":null}}',
    ]);
    const outcomes = await Promise.all(runs.map((run) => run.outcome));

    for (const outcome of outcomes) expect(outcome.code, outcome.stderr).toBe(0);
    const [a, b] = outcomes.map(leaseWindow).sort((x, y) => x.acquiredMs - y.acquiredMs);
    expect(a?.releasedMs).toBeLessThanOrEqual(b?.acquiredMs ?? 0);
    const committed = await listCommitted(`${prefix}/${namespace}/${policyName}/binary/`);
    expect(committed).toHaveLength(3);
  });

  it('takes an on-demand Backup a user created, in no slot, and later daily runs keep it', async () => {
    const { name, run } = await runOnDemandBackup(
      { namespace, policyName, prefix, env },
      'binary/on-demand-backup.yaml',
      'binary',
    );
    const daily = await startPgbackupRun(runArgs('2026-03-09T01:30:00Z'), env).outcome;

    expect(run.code, run.stderr).toBe(0);
    expect(daily.code, daily.stderr).toBe(0);
    const backup = (await listBackupObjects(namespace)).find(
      (candidate) => candidate.metadata.name === name,
    );
    expect(backup?.status).toMatchObject({ phase: 'Completed' });
    expect(backup?.status).not.toHaveProperty('slot');
    const key = artifactKeyOf(backup);
    expect(key).toContain(`/${policyName}/binary/on-demand/`);
    expect(await listCommitted(`${prefix}/${namespace}/${policyName}/binary/`)).toContain(key);
  });

  it('records a failed run as phase Failed with the message it printed', async () => {
    await kubectlApply(namespace, [
      secretObject('orders-superuser', {
        username: requireEnv('PGUSER'),
        password: 'wrong-password',
      }),
    ]);

    const run = await startPgbackupRun(runArgs('2026-03-05T01:30:00Z'), env).outcome;

    expect(run.code).toBe(1);
    const failed = (await listBackupObjects(namespace)).filter(
      (backup) => backup.status?.phase === 'Failed',
    );
    expect(failed).toHaveLength(1);
    const message = String(failed[0]?.status?.message);
    expect(message).toContain(`Secret ${namespace}/orders-superuser`);
    expect(run.stderr).toContain(`pgbackup run: ${message}`);
    expect(run.stderr + message).not.toContain('wrong-password');
  });
});
