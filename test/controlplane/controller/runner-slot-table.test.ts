import { describe, expect, it, vi } from 'vitest';
import { BACKUP_POLICY_PLURAL } from '../../../src/api/index.js';
import type { KubeObject } from '../../../src/kube/index.js';
import { createPostgresPod } from '../../harness/cluster-objects.js';
import { requireEnv } from '../../harness/variables.js';
import {
  applyRunnerPolicy,
  createBackup,
  cronJobsIn,
  pgbackupPath,
  policyCondition,
  useRunningController,
  waitForJob,
} from './controller-setup.js';
import { runLikeThePod } from './job-pod.js';

const WAIT = { timeout: 60_000, interval: 250 };

describe('the real runner, started with the commands the controller wrote', () => {
  const running = useRunningController();

  it('records the backup the runner took in the policy status', async () => {
    const { env } = running;
    // A few minutes ago, so the run is on time for today's fire instant.
    const fire = new Date(Date.now() - 120_000).toISOString().slice(11, 16);
    await applyRunnerPolicy(env, { schedule: { time: fire } });
    await createPostgresPod(env.namespace, {
      fixture: 'controller/postgres-pod.yaml',
      address: requireEnv('PGBACKUP_REPLICA'),
    });
    await createPostgresPod(env.namespace, {
      fixture: 'controller/postgres-pod.yaml',
      address: requireEnv('PGBACKUP_PRIMARY'),
    });

    const cronJob = await vi.waitFor(async () => {
      const found = (await cronJobsIn(env)).get('orders-binary-daily');
      expect(found).toBeDefined();
      expect(await policyCondition(env, 'orders', 'Ready')).toMatchObject({ status: 'True' });
      return found as KubeObject;
    }, WAIT);
    const jobSpec = (cronJob.spec as { jobTemplate: { spec: unknown } }).jobTemplate.spec;
    const run = await runLikeThePod(env, jobSpec);
    expect(run.code, run.stderr).toBe(0);

    await vi.waitFor(async () => {
      const found = await env.client.request<KubeObject>({
        verb: 'get',
        path: pgbackupPath(env.namespace, BACKUP_POLICY_PLURAL, 'orders'),
        what: 'get policy',
      });
      const slots =
        (found.status as { slots?: { backup?: string; sizeBytes?: number }[] }).slots ?? [];
      const occupied = slots.filter((slot) => slot.backup !== undefined);
      expect(occupied).toHaveLength(1);
      expect(occupied[0]?.sizeBytes).toBeGreaterThan(0);
      expect(await policyCondition(env, 'orders', 'LastBackupSucceeded')).toMatchObject({
        status: 'True',
        reason: 'BackupCompleted',
      });
    }, WAIT);
  });

  it("completes an on-demand Backup run with its Job's own command", async () => {
    const { env } = running;
    await createBackup(env, 'before-upgrade', { type: 'binary' });
    const job = await waitForJob(env, 'before-upgrade-run');
    const run = await runLikeThePod(env, job.spec);
    expect(run.code, run.stderr).toBe(0);
    await vi.waitFor(async () => {
      const backup = await env.client.request<KubeObject>({
        verb: 'get',
        path: pgbackupPath(env.namespace, 'backups', 'before-upgrade'),
        what: 'get Backup',
      });
      expect(backup.status).toMatchObject({ phase: 'Completed' });
      expect(await policyCondition(env, 'orders', 'LastBackupSucceeded')).toMatchObject({
        status: 'True',
        message: 'Backup "before-upgrade" completed.',
      });
    }, WAIT);
  });
});
