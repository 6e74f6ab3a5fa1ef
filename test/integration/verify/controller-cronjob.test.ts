import { describe, expect, it, vi } from 'vitest';
import type { KubeObject } from '../../../src/kube/index.js';
import {
  applyRunnerPolicy,
  type ControllerTestEnv,
  cronJobsIn,
  pgbackupPath,
  useRunningController,
} from '../../controlplane/controller/controller-setup.js';
import { createPostgresPod } from '../../harness/cluster-objects.js';
import { writeKubeConfigFile } from '../../harness/controller-process.js';
import { serviceAccountKubeConfig } from '../../harness/kube.js';
import { runEnvironment, startPgbackupRun } from '../../harness/pgbackup-run.js';
import { requireEnv } from '../../harness/variables.js';
import { giveToDrillUser, runVerify } from './verify-run.js';

const WAIT = { timeout: 60_000, interval: 250 };

interface CronJobSpec {
  jobTemplate: { spec: { template: { spec: { containers: { args: string[] }[] } } } };
}

/**
 * The environment of a run as the runner service account: its kubeconfig (in cluster mode the
 * credentials come from the Secrets, through the API, whatever else the environment holds).
 */
async function runnerEnvironment(env: ControllerTestEnv): Promise<NodeJS.ProcessEnv> {
  const runner = await serviceAccountKubeConfig(env.admin, {
    namespace: env.namespace,
    name: 'orders-runner',
  });
  const kubeconfig = writeKubeConfigFile(runner);
  await giveToDrillUser(kubeconfig);
  return runEnvironment({ KUBECONFIG: kubeconfig });
}

describe('the verify CronJob the controller writes', () => {
  const running = useRunningController();

  it('runs the drill as the runner service account and records Passed in the Backup', async () => {
    const { env } = running;
    await applyRunnerPolicy(env, { verify: { schedule: 'daily' } });
    for (const address of [requireEnv('PGBACKUP_REPLICA'), requireEnv('PGBACKUP_PRIMARY')]) {
      await createPostgresPod(env.namespace, { fixture: 'controller/postgres-pod.yaml', address });
    }
    const cronJob = await vi.waitFor(async () => {
      const found = (await cronJobsIn(env)).get('orders-verify');
      expect(found).toBeDefined();
      return found as KubeObject;
    }, WAIT);
    const runner = await runnerEnvironment(env);
    const target = `${env.namespace}/orders`;
    const backup = await startPgbackupRun(
      ['--policy', target, '--type', 'binary', '--line', 'daily', '--at', '2026-03-02T00:30:00Z'],
      runner,
    ).outcome;
    expect(backup.code, backup.stderr).toBe(0);
    const [container] = (cronJob.spec as unknown as CronJobSpec).jobTemplate.spec.template.spec
      .containers;
    const [command, ...args] = container?.args ?? [];
    expect(command).toBe('verify');

    const run = await runVerify(args, { env: runner });

    expect(run.code, run.stderr).toBe(0);
    const list = await env.client.request<{ items: KubeObject[] }>({
      verb: 'list',
      path: pgbackupPath(env.namespace, 'backups'),
      what: 'list Backups',
    });
    expect(list.items).toHaveLength(1);
    expect(list.items[0]?.status).toMatchObject({
      phase: 'Completed',
      verification: {
        result: 'Passed',
        message: expect.stringContaining('pg_verifybackup passed'),
        restoreSeconds: expect.any(Number),
      },
    });
  });
});
