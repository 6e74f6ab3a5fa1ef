import { beforeAll, describe, expect, it } from 'vitest';
import { kubectl } from '../../harness/cluster-objects.js';
import { startPgbackupRun } from '../../harness/pgbackup-run.js';
import {
  listBackupObjects,
  type RunnerPolicy,
  setUpRunnerPolicy,
} from '../../harness/runner-policy.js';
import { requireEnv } from '../../harness/variables.js';
import { giveToDrillUser, runVerify } from './verify-run.js';

describe('pgbackup verify --policy', () => {
  let policy: RunnerPolicy;

  beforeAll(async () => {
    policy = await setUpRunnerPolicy({
      fixture: 'binary/in-cluster.yaml',
      podFixture: 'binary/postgres-pod.yaml',
      podAddresses: [requireEnv('PGBACKUP_REPLICA'), requireEnv('PGBACKUP_PRIMARY')],
    });
    await giveToDrillUser(policy.env.KUBECONFIG ?? '');
    const target = `${policy.namespace}/${policy.policyName}`;
    const backup = await startPgbackupRun(
      ['--policy', target, '--type', 'binary', '--line', 'daily', '--at', '2026-03-02T01:30:00Z'],
      policy.env,
    ).outcome;
    expect(backup.code, backup.stderr).toBe(0);
  });

  it('still verifies a backup no Backup records (the cluster was rebuilt), and says so', async () => {
    await kubectl(['delete', 'backups', '--all', '-n', policy.namespace]);

    const run = await runVerify(['--policy', `${policy.namespace}/${policy.policyName}`], {
      env: policy.env,
    });

    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('not recorded: no Backup in the namespace records this backup');
    expect(await listBackupObjects(policy.namespace)).toEqual([]);
  });
});
