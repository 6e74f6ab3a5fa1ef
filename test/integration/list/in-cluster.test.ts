import { beforeAll, describe, expect, it } from 'vitest';
import { runEnvironment, startPgbackupRun } from '../../harness/pgbackup-run.js';
import { type RunnerPolicy, setUpRunnerPolicy } from '../../harness/runner-policy.js';
import { testBucket } from '../../harness/s3.js';
import { requireEnv } from '../../harness/variables.js';
import { readCommitted, rowsOf, runList } from './list-run.js';

describe('pgbackup list --policy NAMESPACE/NAME', () => {
  let policy: RunnerPolicy;
  let binaryPrefix: string;

  beforeAll(async () => {
    policy = await setUpRunnerPolicy({
      fixture: 'binary/in-cluster.yaml',
      podFixture: 'binary/postgres-pod.yaml',
      podAddresses: [requireEnv('PGBACKUP_REPLICA'), requireEnv('PGBACKUP_PRIMARY')],
    });
    binaryPrefix = `${policy.prefix}/${policy.namespace}/${policy.policyName}/binary/`;
  });

  it('finds the bucket and its credentials through the cluster: nothing committed yet', async () => {
    // The environment holds no S3 keys: they come from the Secret the policy names.
    const run = await runList(['--policy', `${policy.namespace}/${policy.policyName}`], policy.env);

    expect(run).toMatchObject({
      code: 0,
      stdout: `no committed backups of BackupPolicy ${policy.namespace}/${policy.policyName} in s3://${testBucket()} (${requireEnv('PGBACKUP_S3_ENDPOINT')}) under ${policy.prefix}/${policy.namespace}/${policy.policyName}/\n`,
    });
  });

  it('lists the backup a run of the policy committed', async () => {
    const target = `${policy.namespace}/${policy.policyName}`;
    const backup = await startPgbackupRun(
      ['--policy', target, '--type', 'binary', '--line', 'daily', '--at', '2026-03-02T01:30:00Z'],
      policy.env,
    ).outcome;
    expect(backup.code, backup.stderr).toBe(0);
    const [stored] = await readCommitted(binaryPrefix);

    const run = await runList(['--policy', target, '--type', 'binary'], policy.env);

    expect(run.code, run.stderr).toBe(0);
    expect(rowsOf(run.stdout).map((row) => [row[0], row[1], row[2], row.at(-1)])).toEqual([
      ['binary', 'daily', 'mon', stored?.key],
    ]);
  });

  it('exits 1 naming a policy the namespace does not have', async () => {
    // As the cluster's administrator, who may read any policy: the API server answers 404.
    const admin = runEnvironment({ KUBECONFIG: requireEnv('KUBECONFIG') });
    const run = await runList(['--policy', `${policy.namespace}/no-such-policy`], admin);

    expect(run.code).toBe(1);
    expect(run.stderr).toBe(
      `pgbackup list: get BackupPolicy ${policy.namespace}/no-such-policy: the API server answered 404 NotFound: backuppolicies.pgbackup.dev "no-such-policy" not found\n`,
    );
    expect(run.stdout).toBe('');
  });
});
