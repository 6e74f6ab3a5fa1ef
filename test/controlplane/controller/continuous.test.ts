/**
 * Continuous protection, the controller's side, against the real API server and the shared
 * primary, under the chart's RBAC: a policy with spec.continuous gets its WAL receiver (a
 * Deployment and a spool claim it owns); what the receiver writes to status.continuous, as the
 * runner's service account under its own field manager, survives the controller's status
 * writes and becomes the Continuous condition and metrics; a reported gap gets exactly one
 * on-demand binary Backup; suspending, disabling and deleting stop the receiver and drop its
 * permanent slot once its pod is gone. Nothing runs the receiver's pod (no kubelet): the test
 * writes what the receiver would, and reports its pod ready as a kubelet would.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { API_VERSION, BACKUP_POLICY_KIND, BACKUP_POLICY_PLURAL } from '../../../src/api/index.js';
import { connectionOfKubeConfig, KubeClient, type KubeObject } from '../../../src/kube/index.js';
import { walSlotNameOf } from '../../../src/postgres/index.js';
import {
  gapBackupNameOf,
  WAL_RECEIVER_SETTINGS_ANNOTATION,
  type WalGap,
} from '../../../src/render/index.js';
import { createPostgresPod } from '../../harness/cluster-objects.js';
import {
  type ControllerProcess,
  readMetrics,
  sumMetric,
} from '../../harness/controller-process.js';
import { fixtureYaml } from '../../harness/fixtures.js';
import { runKubectl, serviceAccountKubeConfig } from '../../harness/kube.js';
import { superuserClient, withClient } from '../../harness/postgres.js';
import { requireEnv } from '../../harness/variables.js';
import {
  applyRunnerPolicy,
  type ControllerTestEnv,
  FAST_RESYNC_ARGS,
  mergePatch,
  pgbackupPath,
  policyCondition,
  prepareControllerTest,
  startController,
} from './controller-setup.js';
import {
  dropSlotIfPresent,
  eventNotes,
  getIfPresent,
  receiverPods,
  reportReceiverPodReady,
  slotExists,
} from './slots-and-receivers.js';

const WAIT = { timeout: 60_000, interval: 500 };

type Report = Record<string, unknown> & { gap?: WalGap };

/** A report as the receiver writes it, its heartbeat now. */
function reportOf(fixture: 'status-streaming' | 'status-gap'): Report {
  const report = fixtureYaml<Report>(`render/continuous/${fixture}.yaml`);
  return { ...report, heartbeatTime: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z') };
}

/** Makes the receiver's permanent slot, as the receiver does on the primary. */
async function createWalSlot(name: string): Promise<void> {
  if (await slotExists(name)) return;
  await withClient(superuserClient('primary'), (client) =>
    client.query('SELECT pg_create_physical_replication_slot($1, true)', [name]),
  );
}

/** The settings hash on the receiver Deployment's pod template. */
async function receiverSettingsOf(env: ControllerTestEnv): Promise<string | undefined> {
  const path = `/apis/apps/v1/namespaces/${env.namespace}/deployments/orders-wal`;
  const deployment = await getIfPresent(env, path);
  const spec = deployment?.spec as
    | { template?: { metadata?: { annotations?: Record<string, string> } } }
    | undefined;
  return spec?.template?.metadata?.annotations?.[WAL_RECEIVER_SETTINGS_ANNOTATION];
}

describe('continuous protection in the controller', () => {
  let env: ControllerTestEnv;
  let controller: ControllerProcess;
  let receiver: KubeClient | undefined;
  let policyPath = '';
  let walSlot = '';

  beforeAll(async () => {
    env = await prepareControllerTest();
    policyPath = pgbackupPath(env.namespace, BACKUP_POLICY_PLURAL, 'orders');
    walSlot = walSlotNameOf(env.namespace, 'orders');
    controller = await startController(env, FAST_RESYNC_ARGS);
    await createPostgresPod(env.namespace, {
      fixture: 'controller/postgres-pod.yaml',
      address: requireEnv('PGBACKUP_PRIMARY'),
    });
    await applyRunnerPolicy(env, { continuous: { enabled: true } });
  });

  afterAll(async () => {
    receiver?.close();
    if (walSlot !== '') await dropSlotIfPresent(walSlot);
    const code = await controller?.stop();
    expect(code, controller?.logs()).toBe(0);
    await env?.cleanUp();
  });

  const deploymentPath = () => `/apis/apps/v1/namespaces/${env.namespace}/deployments/orders-wal`;
  const claimPath = () =>
    `/api/v1/namespaces/${env.namespace}/persistentvolumeclaims/orders-wal-spool`;

  /** Writes status.continuous as the receiver does: the runner's account, its own manager. */
  async function report(continuous: Report): Promise<void> {
    receiver ??= await KubeClient.create(
      connectionOfKubeConfig(
        await serviceAccountKubeConfig(env.admin, {
          namespace: env.namespace,
          name: 'orders-runner',
        }),
      ),
    );
    const client = receiver;
    await vi.waitFor(
      () =>
        client.request({
          verb: 'patch',
          path: `${policyPath}/status`,
          query: { fieldManager: 'pgbackup-wal-receiver', force: 'true' },
          body: {
            apiVersion: API_VERSION,
            kind: BACKUP_POLICY_KIND,
            metadata: { name: 'orders', namespace: env.namespace },
            status: { continuous },
          },
          contentType: 'application/apply-patch+yaml',
          what: 'apply status.continuous as the receiver',
        }),
      // The runner's Role lands with the controller's first reconcile.
      { timeout: 30_000, interval: 250 },
    );
  }

  it('gets a WAL receiver Deployment and spool claim owned by the policy; Continuous says Starting', async () => {
    const policy = await getIfPresent(env, policyPath);
    await vi.waitFor(async () => {
      const deployment = await getIfPresent(env, deploymentPath());
      const claim = await getIfPresent(env, claimPath());
      for (const object of [deployment, claim]) {
        expect(object?.metadata.ownerReferences).toEqual([
          expect.objectContaining({ kind: 'BackupPolicy', uid: policy?.metadata.uid }),
        ]);
        expect(object?.metadata.labels).toMatchObject({
          'app.kubernetes.io/component': 'wal-receiver',
        });
      }
      expect(deployment?.spec).toMatchObject({ replicas: 1, strategy: { type: 'Recreate' } });
      expect((await getIfPresent(env, policyPath))?.metadata).toMatchObject({
        finalizers: ['pgbackup.dev/replication-slot'],
      });
      expect(await policyCondition(env, 'orders', 'Continuous')).toMatchObject({
        status: 'False',
        reason: 'Starting',
      });
    }, WAIT);
    // The printer column.
    const table = await runKubectl(['get', 'backuppolicy', 'orders', '-n', env.namespace]);
    expect(table.stdout).toMatch(/\bWAL\b/);
    expect(table.stdout).toContain('Starting');
  });

  it('writes the Deployment and claim once: later reconciles find them as wanted', async () => {
    const writes = async () => {
      const metrics = await readMetrics(controller);
      return (
        sumMetric(metrics, 'pgbackup_controller_api_requests_total', {
          verb: 'patch',
          resource: 'deployments',
        }) +
        sumMetric(metrics, 'pgbackup_controller_api_requests_total', {
          verb: 'patch',
          resource: 'persistentvolumeclaims',
        })
      );
    };
    const reconciles = async () =>
      sumMetric(await readMetrics(controller), 'pgbackup_controller_reconciles_total');
    const before = await writes();
    // The first apply of each is counted.
    expect(before).toBeGreaterThanOrEqual(2);
    const reconciledBefore = await reconciles();
    // Three resyncs of every policy (every 2 s here).
    await vi.waitFor(
      async () => expect(await reconciles()).toBeGreaterThanOrEqual(reconciledBefore + 3),
      WAIT,
    );
    expect(await writes()).toBe(before);

    // A new spool size leaves the claim as it is (it cannot change in place), and fails nothing.
    const patched = await mergePatch(env, policyPath, {
      spec: { continuous: { spool: { size: '10Gi' } } },
    });
    await vi.waitFor(async () => {
      expect(await policyCondition(env, 'orders', 'Reconciled')).toMatchObject({
        status: 'True',
        observedGeneration: patched.metadata.generation,
      });
    }, WAIT);
    const claim = await getIfPresent(env, claimPath());
    expect(claim?.spec).toMatchObject({ resources: { requests: { storage: '5Gi' } } });
  });

  it("keeps what the receiver reports through the controller's own status writes", async () => {
    await reportReceiverPodReady(env);
    const streaming = reportOf('status-streaming');
    await report(streaming);
    await vi.waitFor(async () => {
      expect(await policyCondition(env, 'orders', 'Continuous')).toMatchObject({
        status: 'True',
        reason: 'Streaming',
      });
    }, WAIT);
    // A new generation: the controller writes its status again. The interval is read by the
    // receiver at start, so the Deployment rolls: its new pod comes up Ready.
    const before = await receiverSettingsOf(env);
    const patched = await mergePatch(env, policyPath, {
      spec: { continuous: { uploadInterval: '20s' } },
    });
    const generation = patched.metadata.generation;
    const after = await vi.waitFor(async () => {
      const settings = await receiverSettingsOf(env);
      expect(settings).not.toBe(before);
      return settings;
    }, WAIT);
    await reportReceiverPodReady(env, after);
    await vi.waitFor(async () => {
      expect((await policyCondition(env, 'orders', 'Ready'))?.observedGeneration).toBe(generation);
      const policy = await getIfPresent(env, policyPath);
      expect((policy?.status as { continuous?: unknown } | undefined)?.continuous).toEqual(
        streaming,
      );
      const metrics = await readMetrics(controller);
      const labels = { namespace: env.namespace, policy: 'orders' };
      expect(sumMetric(metrics, 'pgbackup_wal_upload_interval_seconds', labels)).toBe(20);
      expect(sumMetric(metrics, 'pgbackup_wal_receiver_up', labels)).toBe(1);
      expect(sumMetric(metrics, 'pgbackup_wal_gap', labels)).toBe(0);
      expect(
        sumMetric(metrics, 'pgbackup_wal_slot_retained_bytes', {
          ...labels,
          slot: 'pgbackup_wal_0123456789abcdef',
        }),
      ).toBe(16384);
    }, WAIT);
    const policy = await getIfPresent(env, policyPath);
    const managers = (
      policy?.metadata as { managedFields?: { manager?: string; fieldsV1?: unknown }[] } | undefined
    )?.managedFields;
    const receiverFields = managers?.find((entry) => entry.manager === 'pgbackup-wal-receiver');
    expect(JSON.stringify(receiverFields?.fieldsV1)).toContain('f:continuous');
    const operatorFields = managers?.filter((entry) => entry.manager === 'pgbackup-operator');
    expect(JSON.stringify(operatorFields)).not.toContain('f:continuous');
  });

  it('takes exactly one on-demand binary Backup for a reported gap, and says Gap', async () => {
    const withGap = reportOf('status-gap');
    const gap = withGap.gap;
    if (gap === undefined) throw new Error('the fixture has a gap');
    await report(withGap);
    const backupName = gapBackupNameOf('orders', gap);
    await vi.waitFor(async () => {
      const condition = await policyCondition(env, 'orders', 'Continuous');
      expect(condition).toMatchObject({ status: 'False', reason: 'Gap' });
      expect(condition?.message).toContain(`from LSN ${gap.fromLsn} to ${gap.toLsn}`);
      const backup = await getIfPresent(env, pgbackupPath(env.namespace, 'backups', backupName));
      expect(backup?.spec).toEqual({ policy: 'orders', type: 'binary' });
      expect((await eventNotes(env, 'WalGapBackup')).join('\n')).toContain(backupName);
    }, WAIT);
    // The receiver reports the gap again and again, and the controller reconciles anew.
    await report({ ...reportOf('status-gap'), lagBytes: 8192 });
    const patched = await mergePatch(env, policyPath, {
      spec: { continuous: { uploadInterval: '30s' } },
    });
    await vi.waitFor(async () => {
      expect((await policyCondition(env, 'orders', 'Ready'))?.observedGeneration).toBe(
        patched.metadata.generation,
      );
    }, WAIT);
    const backups = await env.client.request<{ items: KubeObject[] }>({
      verb: 'list',
      path: pgbackupPath(env.namespace, 'backups'),
      what: 'list Backups',
    });
    const gapBackups = backups.items.filter((item) => item.metadata.name.includes('-gap-'));
    expect(gapBackups.map((item) => item.metadata.name)).toEqual([backupName]);
    const metrics = await readMetrics(controller);
    expect(
      sumMetric(metrics, 'pgbackup_wal_gap', { namespace: env.namespace, policy: 'orders' }),
    ).toBe(1);
  });

  it('stops the receiver of a suspended policy and drops its slot once its pod is gone', async () => {
    await createWalSlot(walSlot);
    await mergePatch(env, policyPath, { spec: { suspend: true } });
    await vi.waitFor(async () => {
      expect(await getIfPresent(env, deploymentPath())).toBeUndefined();
      expect(await receiverPods(env)).toEqual([]);
      expect(await slotExists(walSlot)).toBe(false);
      expect((await eventNotes(env, 'WalSlotDropped')).join('\n')).toContain(walSlot);
      expect(await policyCondition(env, 'orders', 'Continuous')).toMatchObject({
        reason: 'Suspended',
      });
      expect((await getIfPresent(env, policyPath))?.status).not.toHaveProperty('continuous');
    }, WAIT);
    // The spool stays for the receiver's return.
    expect(await getIfPresent(env, claimPath())).toBeDefined();
  });

  it('removes the claim and the report, and drops the slot, once continuous protection is disabled', async () => {
    await mergePatch(env, policyPath, { spec: { suspend: false } });
    await vi.waitFor(async () => expect(await receiverPods(env)).toHaveLength(1), WAIT);
    await createWalSlot(walSlot);
    await mergePatch(env, policyPath, { spec: { continuous: { enabled: false } } });
    await vi.waitFor(async () => {
      expect(await getIfPresent(env, deploymentPath())).toBeUndefined();
      expect(await getIfPresent(env, claimPath())).toBeUndefined();
      expect(await slotExists(walSlot)).toBe(false);
      const policy = await getIfPresent(env, policyPath);
      expect(policy?.status).not.toHaveProperty('continuous');
      expect(await policyCondition(env, 'orders', 'Continuous')).toBeUndefined();
      const metrics = await readMetrics(controller);
      expect(metrics).not.toContain('pgbackup_wal_receiver_up{');
    }, WAIT);
  });

  it("waits, when the policy is deleted, for the receiver's pod to go and drops its slot", async () => {
    await mergePatch(env, policyPath, { spec: { continuous: { enabled: true } } });
    await vi.waitFor(async () => expect(await receiverPods(env)).toHaveLength(1), WAIT);
    await createWalSlot(walSlot);
    const deleted = await runKubectl([
      'delete',
      'backuppolicy',
      'orders',
      '-n',
      env.namespace,
      '--timeout=90s',
    ]);
    expect(deleted.code, deleted.stderr).toBe(0);
    expect(await slotExists(walSlot)).toBe(false);
    expect(await receiverPods(env)).toEqual([]);
    expect(await getIfPresent(env, policyPath)).toBeUndefined();
  });

  it("keeps a stopped receiver's report and slot figure while its primary cannot be reached, and settles once it can", async () => {
    const nowhere = {
      selector: { matchLabels: { app: 'no-such-server' } },
      credentials: { secretName: 'orders-superuser' },
    };
    await applyRunnerPolicy(env, { target: nowhere, continuous: { enabled: true } });
    await vi.waitFor(async () => expect(await receiverPods(env)).toHaveLength(1), WAIT);
    // A new policy has a new runner account: the old one's token is void.
    receiver?.close();
    receiver = undefined;
    const streaming = reportOf('status-streaming');
    await report(streaming);
    await mergePatch(env, policyPath, { spec: { suspend: true } });
    const labels = { namespace: env.namespace, policy: 'orders' };
    await vi.waitFor(async () => {
      expect(await receiverPods(env)).toEqual([]);
      expect(controller.logs()).toContain(
        "could not drop the stopped WAL receiver's replication slot",
      );
    }, WAIT);
    // Not dropped: the last report stays, and what the slot last held is still exported.
    const policy = await getIfPresent(env, policyPath);
    expect((policy?.status as { continuous?: unknown } | undefined)?.continuous).toEqual(streaming);
    const metrics = await readMetrics(controller);
    expect(
      sumMetric(metrics, 'pgbackup_wal_slot_retained_bytes', {
        ...labels,
        slot: 'pgbackup_wal_0123456789abcdef',
      }),
    ).toBe(16384);
    expect(metrics).not.toContain('pgbackup_wal_receiver_up{');

    // The target fixed: the controller reaches the primary, finds no slot left, and settles.
    await applyRunnerPolicy(env, { continuous: { enabled: true }, suspend: true });
    await vi.waitFor(async () => {
      const settled = await getIfPresent(env, policyPath);
      expect(settled?.status).not.toHaveProperty('continuous');
      expect(await readMetrics(controller)).not.toContain('pgbackup_wal_slot_retained_bytes{');
    }, WAIT);
  });
});
