import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { BACKUP_POLICY_PLURAL } from '../../src/api/index.js';
import type { KubeObject } from '../../src/kube/index.js';
import { LABELS } from '../../src/render/index.js';
import {
  type ControllerTestEnv,
  mergePatch,
  pgbackupPath,
  policyCondition,
  prepareControllerTest,
} from '../controlplane/controller/controller-setup.js';
import { environmentSecrets, kubectlApply } from '../harness/cluster-objects.js';
import { type ControllerProcess, startControllerProcess } from '../harness/controller-process.js';
import { ensureBuiltOperator } from '../harness/executor/built-operator.js';
import { jobFromCronJob } from '../harness/executor/job-from-cron-job.js';
import { type LocalExecutor, startLocalExecutor } from '../harness/executor/local-executor.js';
import { fixtureYaml } from '../harness/fixtures.js';
import { testBucket, testPrefix } from '../harness/s3.js';
import { requireEnv } from '../harness/variables.js';
import {
  createJobsFromCronJobs,
  createStandInPostgresPods,
  policyCronJobs,
  waitForJobs,
} from './chain-steps.js';
import { type BackupObject, expectCommitted } from './committed-backup.js';
import { onTimeSchedule } from './on-time-schedule.js';

const WAIT = { timeout: 60_000, interval: 250 };

interface PolicySlot {
  type: string;
  line: string;
  slot: number;
  backup?: string;
  sizeBytes?: number;
}

/** The executor's view of what ran, for failure messages. */
function executorReport(executor: LocalExecutor): string {
  const pods = executor
    .finished()
    .map((pod) => `--- ${pod.name} exited ${pod.exitCode}:\n${executor.logOf(pod.name)}`);
  return [...pods, ...executor.problems()].join('\n');
}

describe('the whole chain on one machine: policy → CronJob → Job → Pod → runner → bucket → Backup → slot', () => {
  let env: ControllerTestEnv;
  let controller: ControllerProcess;
  let executor: LocalExecutor;
  const prefix = testPrefix();

  beforeAll(async () => {
    env = await prepareControllerTest();
    const [operatorMain] = await Promise.all([
      ensureBuiltOperator(),
      startControllerProcess(env.kubeconfigPath, [
        '--namespaces',
        env.namespace,
        '--lease-namespace',
        env.namespace,
      ]).then((started) => {
        controller = started;
      }),
    ]);
    executor = await startLocalExecutor({
      client: env.client,
      apiServer: env.admin.getCurrentCluster()?.server ?? '',
      namespace: env.namespace,
      nodeName: `executor-${env.namespace}`,
      workDir: mkdtempSync(join(tmpdir(), 'pgbackup-executor-')),
      operatorMain,
    });
  });

  /** The pods of a Job. */
  async function podsOf(job: string): Promise<KubeObject[]> {
    const pods = await env.client.request<{ items: KubeObject[] }>({
      verb: 'list',
      path: `/api/v1/namespaces/${env.namespace}/pods`,
      query: { labelSelector: `job-name=${job}` },
      what: `list the pods of Job ${job}`,
    });
    return pods.items;
  }

  /** Creates a Job named `name` from the daily CronJob; returns its name. */
  async function createDailyJob(name: string): Promise<string> {
    const cronJob = (await policyCronJobs(env.client, env.namespace, 'orders')).find(
      (found) => found.metadata.name === 'orders-binary-daily',
    );
    if (cronJob === undefined) throw new Error('the daily CronJob is gone');
    await env.client.request({
      verb: 'create',
      path: `/apis/batch/v1/namespaces/${env.namespace}/jobs`,
      body: jobFromCronJob(cronJob as Parameters<typeof jobFromCronJob>[0], name),
      what: `create Job ${name}`,
    });
    return name;
  }

  /** The Job's one pod ran on the executor's node as the runner's service account, and exited 0. */
  async function expectPodSucceeded(job: string): Promise<void> {
    const pods = await podsOf(job);
    expect(pods).toHaveLength(1);
    expect(pods[0]).toMatchObject({
      spec: { nodeName: executor.nodeName, serviceAccountName: 'orders-runner' },
      status: {
        phase: 'Succeeded',
        containerStatuses: [{ state: { terminated: { exitCode: 0, reason: 'Completed' } } }],
      },
    });
  }

  afterAll(async () => {
    await executor?.stop();
    await controller?.stop();
    await env?.cleanUp();
  });

  it('runs a binary and a logical CronJob as pods under the runner service account and records each backup in its slot', async () => {
    const policy = fixtureYaml<KubeObject & { spec: Record<string, Record<string, unknown>> }>(
      'e2e/chain-policy.yaml',
    );
    const nowMs = Date.now();
    await kubectlApply(env.namespace, [
      ...environmentSecrets(),
      {
        ...policy,
        spec: {
          ...policy.spec,
          schedule: { ...policy.spec.schedule, ...onTimeSchedule(nowMs) },
          storage: {
            s3: {
              ...(policy.spec.storage?.s3 as object),
              bucket: testBucket(),
              prefix,
              endpoint: requireEnv('PGBACKUP_S3_ENDPOINT'),
              region: requireEnv('AWS_REGION'),
            },
          },
        },
      },
    ]);
    await createStandInPostgresPods(env.namespace, 'orders');

    const cronJobs = await vi.waitFor(async () => {
      expect(await policyCondition(env, 'orders', 'Ready')).toMatchObject({ status: 'True' });
      const found = await policyCronJobs(env.client, env.namespace, 'orders');
      expect(found.map((cronJob) => cronJob.metadata.name)).toEqual([
        'orders-binary-daily',
        'orders-logical-weekly',
      ]);
      return found;
    }, WAIT);

    const jobs = await createJobsFromCronJobs(env.client, cronJobs, nowMs);
    const outcomes = await waitForJobs(env.client, env.namespace, jobs);
    expect(Object.fromEntries(outcomes), executorReport(executor)).toEqual(
      Object.fromEntries(jobs.map((job) => [job, 'Complete'])),
    );
    for (const job of jobs) await expectPodSucceeded(job);

    const backups = await env.client.request<{ items: BackupObject[] }>({
      verb: 'list',
      path: pgbackupPath(env.namespace, 'backups'),
      query: { labelSelector: `${LABELS.policy}=orders` },
      what: 'list Backups',
    });
    const byType = backups.items.sort((a, b) => a.spec.type.localeCompare(b.spec.type));
    expect(byType.map((backup) => [backup.spec.type, backup.spec.line])).toEqual([
      ['binary', 'daily'],
      ['logical', 'weekly'],
    ]);
    for (const backup of byType) {
      await expectCommitted(backup, `${prefix}/${env.namespace}/orders/`);
    }

    await vi.waitFor(async () => {
      const found = await env.client.request<KubeObject>({
        verb: 'get',
        path: pgbackupPath(env.namespace, BACKUP_POLICY_PLURAL, 'orders'),
        what: 'get policy',
      });
      const slots = (found.status as { slots?: PolicySlot[] }).slots ?? [];
      const occupied = slots.filter((slot) => slot.backup !== undefined);
      expect(occupied.sort((a, b) => a.type.localeCompare(b.type))).toEqual(
        byType.map((backup) =>
          expect.objectContaining({
            type: backup.spec.type,
            line: backup.spec.line,
            slot: backup.status?.slot,
            backup: backup.metadata.name,
            sizeBytes: backup.status?.sizeBytes,
          }),
        ),
      );
      expect(await policyCondition(env, 'orders', 'LastBackupSucceeded')).toMatchObject({
        status: 'True',
      });
    }, WAIT);
  });
  it('reports a failed run as the kubelet would: pod Failed with its exit code, Job Failed, Backup Failed with the reason', async () => {
    await mergePatch(env, pgbackupPath(env.namespace, BACKUP_POLICY_PLURAL, 'orders'), {
      spec: { storage: { s3: { bucket: 'no-such-bucket' } } },
    });
    const job = await createDailyJob('orders-binary-daily-failing');
    expect(Object.fromEntries(await waitForJobs(env.client, env.namespace, [job]))).toEqual({
      [job]: 'Failed',
    });
    const pods = await podsOf(job);
    expect(pods[0]).toMatchObject({
      status: {
        phase: 'Failed',
        containerStatuses: [{ state: { terminated: { exitCode: 1, reason: 'Error' } } }],
      },
    });
    const podName = pods[0]?.metadata.name ?? '';
    expect(executor.logOf(podName)).toContain('bucket "no-such-bucket" does not exist');
    const backups = await env.client.request<{ items: BackupObject[] }>({
      verb: 'list',
      path: pgbackupPath(env.namespace, 'backups'),
      query: { labelSelector: `${LABELS.policy}=orders,${LABELS.line}=daily` },
      what: 'list Backups',
    });
    expect(backups.items.map((backup) => backup.status?.phase).sort()).toEqual([
      'Completed',
      'Failed',
    ]);
    expect(
      backups.items.find((backup) => backup.status?.phase === 'Failed')?.status?.message,
    ).toContain('bucket "no-such-bucket" does not exist');
    await vi.waitFor(async () => {
      expect(await policyCondition(env, 'orders', 'LastBackupSucceeded')).toMatchObject({
        status: 'False',
        message: expect.stringContaining('bucket "no-such-bucket" does not exist'),
      });
    }, WAIT);
  });
  it('fails a run whose Secret is missing, naming it (the runner reads Secrets through the API; the pod spec holds none), and runs again once it exists', async () => {
    await mergePatch(env, pgbackupPath(env.namespace, BACKUP_POLICY_PLURAL, 'orders'), {
      spec: { storage: { s3: { bucket: testBucket() } } },
    });
    await env.client.request({
      verb: 'delete',
      path: `/api/v1/namespaces/${env.namespace}/secrets/orders-s3`,
      what: 'delete Secret orders-s3',
    });
    const job = await createDailyJob('orders-binary-daily-no-secret');
    expect(Object.fromEntries(await waitForJobs(env.client, env.namespace, [job]))).toEqual({
      [job]: 'Failed',
    });
    const [pod] = await podsOf(job);
    expect(executor.logOf(pod?.metadata.name ?? '')).toContain(`Secret ${env.namespace}/orders-s3`);
    await kubectlApply(env.namespace, environmentSecrets());
    const again = await createDailyJob('orders-binary-daily-with-secret');
    expect(Object.fromEntries(await waitForJobs(env.client, env.namespace, [again]))).toEqual({
      [again]: 'Complete',
    });
  });
  it("terminates a running pod's process when its Job is deleted, and removes the pod", async () => {
    // Another run holds the policy's Lease, so this one waits (and keeps running) until deleted.
    const lease = `/apis/coordination.k8s.io/v1/namespaces/${env.namespace}/leases/orders-binary`;
    await env.client.request({
      verb: 'patch',
      path: lease,
      query: { fieldManager: 'e2e-test', force: 'true' },
      contentType: 'application/apply-patch+yaml',
      body: {
        apiVersion: 'coordination.k8s.io/v1',
        kind: 'Lease',
        metadata: { name: 'orders-binary' },
        spec: {
          holderIdentity: 'a-run-that-holds-on',
          leaseDurationSeconds: 3600,
          renewTime: new Date().toISOString().replace(/\.(\d{3})Z$/, '.$1000Z'),
        },
      },
      what: 'hold Lease orders-binary',
    });
    const job = await createDailyJob('orders-binary-daily-deleted');
    const pod = await vi.waitFor(async () => {
      const [found] = await podsOf(job);
      expect(found?.status).toMatchObject({ phase: 'Running' });
      expect(executor.logOf(found?.metadata.name ?? '')).toContain('waiting for the Lease');
      return found as KubeObject;
    }, WAIT);
    await env.client.request({
      verb: 'delete',
      path: `/apis/batch/v1/namespaces/${env.namespace}/jobs/${job}`,
      query: { propagationPolicy: 'Background' },
      what: `delete Job ${job}`,
    });
    await vi.waitFor(async () => expect(await podsOf(job)).toEqual([]), WAIT);
    expect(executor.finished()).toContainEqual(
      expect.objectContaining({ name: pod.metadata.name, exitCode: 143 }),
    );
    await env.client.request({ verb: 'delete', path: lease, what: 'delete Lease orders-binary' });
  });
});
