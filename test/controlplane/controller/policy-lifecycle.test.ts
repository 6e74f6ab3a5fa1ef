import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { BACKUP_PLURAL, BACKUP_POLICY_PLURAL, parseBackupPolicy } from '../../../src/api/index.js';
import { containsDesired } from '../../../src/controller/index.js';
import type { KubeObject } from '../../../src/kube/index.js';
import { DEFAULT_RUN_SETTINGS, renderCronJobs } from '../../../src/render/index.js';
import {
  type ControllerProcess,
  readMetrics,
  sumMetric,
} from '../../harness/controller-process.js';
import {
  type ControllerTestEnv,
  createBackup,
  createOrdersPolicy,
  cronJobsIn,
  FAST_RESYNC_ARGS,
  mergePatch,
  pgbackupPath,
  policyCondition,
  prepareControllerTest,
  startController,
  waitForJob,
} from './controller-setup.js';

const WAIT = { timeout: 60_000, interval: 250 };

type Json = Record<string, unknown>;
const specOf = (object: KubeObject | undefined) => object?.spec as Json | undefined;

describe('the controller turns a BackupPolicy into CronJobs (as the chart service account)', () => {
  let env: ControllerTestEnv;
  let controller: ControllerProcess;
  let policyPath = '';

  beforeAll(async () => {
    env = await prepareControllerTest();
    policyPath = pgbackupPath(env.namespace, BACKUP_POLICY_PLURAL, 'orders');
    controller = await startController(env, FAST_RESYNC_ARGS);
  });

  afterAll(async () => {
    const code = await controller?.stop();
    expect(code, controller?.logs()).toBe(0);
    await env?.cleanUp();
  });

  it('serves /healthz and /readyz next to /metrics', async () => {
    const url = (path: string) => controller.metricsUrl.replace('/metrics', path);
    // Live as soon as it listens; ready only once its caches are filled, which may take a
    // moment after that on a busy machine: until then /readyz says 503 and why.
    expect((await fetch(url('/healthz'))).status).toBe(200);
    const early = await fetch(url('/readyz'));
    if (early.status !== 200) {
      expect(early.status).toBe(503);
      expect(await early.text()).toMatch(/caches not synced/);
    }
    await vi.waitFor(async () => expect((await fetch(url('/readyz'))).status).toBe(200), WAIT);
  });

  it('creates exactly the CronJobs the policy wants, and a Job from each gets a Pod', async () => {
    const created = await createOrdersPolicy(env);
    const parsed = parseBackupPolicy({ ...created, status: undefined });
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues));
    const desired = renderCronJobs({
      policy: parsed.value,
      uid: created.metadata.uid ?? '',
      settings: { ...DEFAULT_RUN_SETTINGS, defaultImage: 'pgbackup-operator:test' },
    });
    const expectedNames = ['orders-binary-daily', 'orders-binary-weekly', 'orders-logical-monthly'];
    expect(desired.map((cronJob) => cronJob.manifest.metadata.name)).toEqual(expectedNames);
    const cronJobs = await vi.waitFor(async () => {
      const found = await cronJobsIn(env);
      expect([...found.keys()].sort()).toEqual([...expectedNames].sort());
      return found;
    }, WAIT);
    for (const { manifest } of desired) {
      // Items of a list carry no apiVersion and kind of their own.
      const { apiVersion: _apiVersion, kind: _kind, ...fields } = manifest;
      expect(containsDesired(fields, cronJobs.get(manifest.metadata.name))).toBe(true);
    }
    await vi.waitFor(async () => {
      const ready = await policyCondition(env, 'orders', 'Ready');
      expect(ready).toMatchObject({ status: 'True', reason: 'Scheduled' });
    }, WAIT);

    // What `kubectl create job --from=cronjob/…` does; the real Job controller makes the Pod.
    for (const [name, cronJob] of cronJobs) {
      const template = specOf(cronJob)?.jobTemplate as { spec: unknown };
      await env.client.request({
        verb: 'create',
        path: `/apis/batch/v1/namespaces/${env.namespace}/jobs`,
        body: {
          metadata: {
            name: `${name}-manual`,
            annotations: { 'cronjob.kubernetes.io/instantiate': 'manual' },
          },
          spec: template.spec,
        },
        what: `create a Job from ${name}`,
      });
    }
    await vi.waitFor(async () => {
      const pods = await env.client.request<{ items: KubeObject[] }>({
        verb: 'list',
        path: `/api/v1/namespaces/${env.namespace}/pods`,
        what: 'list pods',
      });
      const jobNames = pods.items.map((pod) => pod.metadata.labels?.['job-name']).sort();
      expect(jobNames).toEqual(expectedNames.map((name) => `${name}-manual`).sort());
    }, WAIT);
  });

  it('updates CronJobs when lines, time zone or schedule change, and deletes a removed line', async () => {
    await mergePatch(env, policyPath, {
      spec: {
        timeZone: 'America/New_York',
        schedule: { time: '04:15' },
        binary: { lines: { weekly: null } },
      },
    });
    await vi.waitFor(async () => {
      const cronJobs = await cronJobsIn(env);
      expect([...cronJobs.keys()].sort()).toEqual([
        'orders-binary-daily',
        'orders-logical-monthly',
      ]);
      expect(specOf(cronJobs.get('orders-binary-daily'))).toMatchObject({
        schedule: '15 4 * * *',
        timeZone: 'America/New_York',
      });
      expect(specOf(cronJobs.get('orders-logical-monthly'))).toMatchObject({
        schedule: '15 4 28-31 * *',
        timeZone: 'America/New_York',
      });
    }, WAIT);
  });

  it('suspends every CronJob of a suspended policy, and resumes them', async () => {
    await mergePatch(env, policyPath, { spec: { suspend: true } });
    await vi.waitFor(async () => {
      const cronJobs = [...(await cronJobsIn(env)).values()];
      expect(cronJobs.map((cronJob) => specOf(cronJob)?.suspend)).toEqual([true, true]);
      expect(await policyCondition(env, 'orders', 'Ready')).toMatchObject({ reason: 'Suspended' });
    }, WAIT);
    await mergePatch(env, policyPath, { spec: { suspend: false } });
    await vi.waitFor(async () => {
      const cronJobs = [...(await cronJobsIn(env)).values()];
      expect(cronJobs.map((cronJob) => specOf(cronJob)?.suspend)).toEqual([false, false]);
    }, WAIT);
  });

  it('makes zero write requests when a full resync finds nothing changed', async () => {
    const writesOf = (text: string) =>
      ['create', 'update', 'patch', 'delete']
        .map((verb) => sumMetric(text, 'pgbackup_controller_api_requests_total', { verb }))
        .reduce((sum, count) => sum + count, 0) -
      // Renewing the leader Lease is the one write a steady state makes.
      ['update', 'create'].reduce(
        (sum, verb) =>
          sum +
          sumMetric(text, 'pgbackup_controller_api_requests_total', { verb, resource: 'leases' }),
        0,
      );
    const reconcilesOf = (text: string) =>
      sumMetric(text, 'pgbackup_controller_reconciles_total', { result: 'success' });
    // Settle: two samples a few resyncs apart with the same number of writes.
    let before = await readMetrics(controller);
    await vi.waitFor(async () => {
      await new Promise((resolve) => setTimeout(resolve, 2500));
      const now = await readMetrics(controller);
      const settled = writesOf(now) === writesOf(before);
      before = now;
      expect(settled).toBe(true);
    }, WAIT);
    // Then three full resyncs (every 2 s) of the one policy must write nothing.
    const after = await vi.waitFor(async () => {
      const text = await readMetrics(controller);
      expect(reconcilesOf(text)).toBeGreaterThanOrEqual(reconcilesOf(before) + 3);
      return text;
    }, WAIT);
    expect(writesOf(after)).toBe(writesOf(before));
    expect(writesOf(before)).toBeGreaterThan(0);
  });

  it('leaves the CronJobs untouched and sets Ready=False naming the field of an invalid edit', async () => {
    const versions = new Map(
      [...(await cronJobsIn(env))].map(([name, cronJob]) => [
        name,
        cronJob.metadata.resourceVersion,
      ]),
    );
    // The API server accepts the shape; only the controller knows the zone does not exist.
    await mergePatch(env, policyPath, { spec: { timeZone: 'Europe/Atlantis' } });
    await vi.waitFor(async () => {
      const ready = await policyCondition(env, 'orders', 'Ready');
      expect(ready).toMatchObject({ status: 'False', reason: 'UnknownTimeZone' });
      expect(ready?.message).toContain('spec.timeZone');
    }, WAIT);
    const after = await cronJobsIn(env);
    expect(new Map([...after].map(([name, c]) => [name, c.metadata.resourceVersion]))).toEqual(
      versions,
    );
    // A Secret the policy names that does not exist is invalid too, and names its field.
    await mergePatch(env, policyPath, {
      spec: { timeZone: 'America/New_York', target: { credentials: { secretName: 'missing' } } },
    });
    await vi.waitFor(async () => {
      const ready = await policyCondition(env, 'orders', 'Ready');
      expect(ready).toMatchObject({ status: 'False', reason: 'SecretNotFound' });
      expect(ready?.message).toContain('spec.target.credentials.secretName');
    }, WAIT);
    await mergePatch(env, policyPath, {
      spec: { target: { credentials: { secretName: 'orders-backup' } } },
    });
    await vi.waitFor(async () => {
      expect(await policyCondition(env, 'orders', 'Ready')).toMatchObject({ status: 'True' });
    }, WAIT);
    // So is a ConfigMap of encryption recipients (the chart lets the controller get it).
    const recipients = [{ configMapKeyRef: { name: 'orders-keys', key: 'recipients' } }];
    await mergePatch(env, policyPath, { spec: { storage: { encryption: { recipients } } } });
    await vi.waitFor(async () => {
      const ready = await policyCondition(env, 'orders', 'Ready');
      expect(ready).toMatchObject({ status: 'False', reason: 'ConfigMapNotFound' });
      expect(ready?.message).toContain(
        'spec.storage.encryption.recipients[0].configMapKeyRef.name: ConfigMap "orders-keys"',
      );
    }, WAIT);
    await mergePatch(env, policyPath, { spec: { storage: { encryption: null } } });
    await vi.waitFor(async () => {
      expect(await policyCondition(env, 'orders', 'Ready')).toMatchObject({ status: 'True' });
    }, WAIT);
  });

  it('says in Reconciled what the API server refused, and recovers when it is fixed', async () => {
    // The CRD cannot check node selector values the way the pod spec does; the server can.
    await mergePatch(env, policyPath, {
      spec: { jobTemplate: { nodeSelector: { disk: 'not valid!' } } },
    });
    await vi.waitFor(async () => {
      const reconciled = await policyCondition(env, 'orders', 'Reconciled');
      expect(reconciled).toMatchObject({ status: 'False', reason: 'ApplyFailed' });
      expect(reconciled?.message).toContain('nodeSelector');
      // The CronJobs applied before are still there and Ready says so.
      expect(await policyCondition(env, 'orders', 'Ready')).toMatchObject({ status: 'True' });
    }, WAIT);
    await mergePatch(env, policyPath, { spec: { jobTemplate: { nodeSelector: { disk: 'ssd' } } } });
    await vi.waitFor(async () => {
      expect(await policyCondition(env, 'orders', 'Reconciled')).toMatchObject({ status: 'True' });
      const cronJobs = await cronJobsIn(env);
      const jobTemplate = specOf(cronJobs.get('orders-binary-daily'))?.jobTemplate;
      expect(JSON.stringify(jobTemplate)).toContain('"nodeSelector":{"disk":"ssd"}');
    }, WAIT);
  });

  it('shows a completed run in the slot table and LastBackupSucceeded', async () => {
    // Recorded as the runner records a run (the runner itself is issue 5's).
    const backupsPath = pgbackupPath(env.namespace, BACKUP_PLURAL);
    await createBackup(env, 'orders-binary-daily-20261124', { type: 'binary', line: 'daily' });
    await mergePatch(env, `${backupsPath}/orders-binary-daily-20261124/status`, {
      status: {
        phase: 'Completed',
        slot: 6,
        slotLabel: 'tue',
        sizeBytes: 123456,
        startedAt: '2026-11-24T09:15:00Z',
        completedAt: '2026-11-24T09:17:30Z',
      },
    });
    await vi.waitFor(async () => {
      const policy = await env.client.request<KubeObject>({
        verb: 'get',
        path: policyPath,
        what: 'get policy',
      });
      const slots = (policy.status as { slots?: Json[] }).slots ?? [];
      expect(slots).toContainEqual({
        type: 'binary',
        line: 'daily',
        slot: 6,
        label: 'tue',
        backup: 'orders-binary-daily-20261124',
        time: '2026-11-24T09:17:30Z',
        sizeBytes: 123456,
        stale: false,
      });
      expect(await policyCondition(env, 'orders', 'LastBackupSucceeded')).toMatchObject({
        status: 'True',
        reason: 'BackupCompleted',
      });
    }, WAIT);
    const metrics = await readMetrics(controller);
    const labels = { policy: 'orders', type: 'binary', line: 'daily' };
    expect(sumMetric(metrics, 'pgbackup_backup_last_success_timestamp_seconds', labels)).toBe(
      Date.parse('2026-11-24T09:17:30Z') / 1000,
    );
    expect(sumMetric(metrics, 'pgbackup_backup_last_duration_seconds', labels)).toBe(150);
  });

  it('gives an on-demand Backup a Job from the policy template, whose Pod passes admission', async () => {
    const backupsPath = pgbackupPath(env.namespace, BACKUP_PLURAL);
    await createBackup(env, 'before-upgrade', { type: 'logical' });
    const job = await waitForJob(env, 'before-upgrade-run');
    expect(job.metadata.ownerReferences?.[0]).toMatchObject({
      kind: 'Backup',
      name: 'before-upgrade',
    });
    await vi.waitFor(async () => {
      const backup = await env.client.request<KubeObject>({
        verb: 'get',
        path: `${backupsPath}/before-upgrade`,
        what: 'get Backup',
      });
      expect(backup.status).toMatchObject({ phase: 'Pending' });
      const pods = await env.client.request<{ items: KubeObject[] }>({
        verb: 'list',
        path: `/api/v1/namespaces/${env.namespace}/pods`,
        query: { labelSelector: 'job-name=before-upgrade-run' },
        what: 'list pods',
      });
      expect(pods.items).toHaveLength(1);
    }, WAIT);
    // The runner records the outcome; the policy's status follows it.
    await mergePatch(env, `${backupsPath}/before-upgrade/status`, {
      status: {
        phase: 'Completed',
        startedAt: '2026-11-25T08:00:00Z',
        completedAt: '2026-11-25T08:01:00Z',
      },
    });
    await vi.waitFor(async () => {
      expect(await policyCondition(env, 'orders', 'LastBackupSucceeded')).toMatchObject({
        status: 'True',
        message: 'Backup "before-upgrade" completed.',
      });
    }, WAIT);
  });

  it('lets the garbage collector remove the CronJobs of a deleted policy and keeps its Backups', async () => {
    await env.client.request({ verb: 'delete', path: policyPath, what: 'delete policy' });
    await vi.waitFor(
      async () => {
        expect((await cronJobsIn(env)).size).toBe(0);
        const accounts = await env.client.request<{ items: KubeObject[] }>({
          verb: 'list',
          path: `/api/v1/namespaces/${env.namespace}/serviceaccounts`,
          what: 'list service accounts',
        });
        expect(accounts.items.map((account) => account.metadata.name)).not.toContain(
          'orders-runner',
        );
      },
      { timeout: 120_000, interval: 500 },
    );
    const backups = await env.client.request<{ items: KubeObject[] }>({
      verb: 'list',
      path: pgbackupPath(env.namespace, BACKUP_PLURAL),
      what: 'list Backups',
    });
    expect(backups.items.map((backup) => backup.metadata.name).sort()).toEqual([
      'before-upgrade',
      'orders-binary-daily-20261124',
    ]);
  });
});
