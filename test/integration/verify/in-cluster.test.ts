import { chown } from 'node:fs/promises';
import { dirname } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { type BackupPolicy, parseBackupPolicy } from '../../../src/api/index.js';
import { DEFAULT_RUN_SETTINGS, renderCronJobs } from '../../../src/render/index.js';
import { kubectl } from '../../harness/cluster-objects.js';
import { postgresRunAs } from '../../harness/env/postgres.js';
import { startPgbackupRun } from '../../harness/pgbackup-run.js';
import {
  artifactKeyOf,
  listBackupObjects,
  type RunnerPolicy,
  setUpRunnerPolicy,
} from '../../harness/runner-policy.js';
import { requireEnv } from '../../harness/variables.js';
import { runVerify } from './verify-run.js';

interface ContainerSpec {
  args: string[];
}

/** The arguments of the container of the policy's verify CronJob, as the controller renders it. */
async function verifyJobArgs(policy: RunnerPolicy): Promise<string[]> {
  const object = JSON.parse(
    await kubectl(['get', 'backuppolicy', policy.policyName, '-n', policy.namespace, '-o', 'json']),
  );
  const parsed = parseBackupPolicy(object);
  if (!parsed.ok) throw new Error('the applied policy does not parse');
  const verify = renderCronJobs({
    policy: parsed.value,
    uid: object.metadata.uid,
    settings: DEFAULT_RUN_SETTINGS,
  }).find((cronJob) => cronJob.status.type === 'verify');
  const spec = verify?.manifest.spec as
    | { jobTemplate: { spec: { template: { spec: { containers: ContainerSpec[] } } } } }
    | undefined;
  const args = spec?.jobTemplate.spec.template.spec.containers[0]?.args;
  if (args === undefined) throw new Error('the policy renders no verify CronJob');
  return args;
}

describe('pgbackup verify --policy, as the verify CronJob runs it', () => {
  let policy: RunnerPolicy;

  beforeAll(async () => {
    policy = await setUpRunnerPolicy({
      fixture: 'binary/in-cluster.yaml',
      podFixture: 'binary/postgres-pod.yaml',
      podAddresses: [requireEnv('PGBACKUP_REPLICA'), requireEnv('PGBACKUP_PRIMARY')],
      edit: (spec: BackupPolicy) => {
        spec.spec.verify = { schedule: 'daily' };
      },
    });
    // The drill runs as the postgres user, who must read the service account's kubeconfig.
    const runAs = postgresRunAs();
    const kubeconfig = policy.env.KUBECONFIG;
    if (runAs !== undefined && kubeconfig !== undefined) {
      await chown(dirname(kubeconfig), runAs.uid, runAs.gid);
      await chown(kubeconfig, runAs.uid, runAs.gid);
    }
    const target = `${policy.namespace}/${policy.policyName}`;
    const backup = await startPgbackupRun(
      ['--policy', target, '--type', 'binary', '--line', 'daily', '--at', '2026-03-02T01:30:00Z'],
      policy.env,
    ).outcome;
    expect(backup.code, backup.stderr).toBe(0);
  });

  it("records Passed in the verified backup's Backup, with the runner's service account", async () => {
    const args = await verifyJobArgs(policy);
    expect(args.slice(0, 3)).toEqual([
      'verify',
      '--policy',
      `${policy.namespace}/${policy.policyName}`,
    ]);

    const run = await runVerify(args.slice(1), { env: policy.env });

    expect(run.code, run.stderr).toBe(0);
    const [backup] = await listBackupObjects(policy.namespace);
    expect(run.stdout).toContain(`Passed: ${artifactKeyOf(backup)}`);
    expect(run.stdout).toContain(
      `recorded in Backup ${policy.namespace}/${backup?.metadata.name} (status.verification)`,
    );
    expect(backup?.status?.verification).toEqual({
      result: 'Passed',
      time: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T/),
      message: expect.stringMatching(/pg_amcheck checked \d+ tables and \d+ indexes/),
    });
    expect(run.leftInWorkDir).toEqual([]);
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
