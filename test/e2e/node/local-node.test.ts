/**
 * The whole chain on a real node (issue 13): kubelet + containerd + runc + CNI on this
 * machine run the image built from the Dockerfile, so the runtime (not a stand-in) enforces
 * the pods' user and read-only root, `kubectl logs` reads what the containers wrote, the
 * chart is installed with helm, and the CronJob controller fires the Jobs on schedule.
 * Skipped, with the reason, where the machine cannot run containers (not root, no containerd).
 */
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  API_VERSION,
  BACKUP_POLICY_PLURAL,
  GROUP,
  RESTORE_PLURAL,
} from '../../../src/api/index.js';
import { walSlotNameOf } from '../../../src/postgres/index.js';
import { LABELS, WAL_RECEIVER_COMPONENT, walSpoolClaimNameOf } from '../../../src/render/index.js';
import {
  RUNNER_CONTAINER_SECURITY_CONTEXT,
  RUNNER_POD_SECURITY_CONTEXT,
} from '../../../src/render/runner-pod.js';
import { CRONJOB_SCHEDULED_TIMESTAMP } from '../../../src/runner/trigger-time.js';
import { kubectl, kubectlApply } from '../../harness/cluster-objects.js';
import { waitUntil } from '../../harness/env/processes.js';
import { pinnedKubernetesVersion } from '../../harness/env/tools.js';
import { ensureOperatorImages, type OperatorImages } from '../../harness/image/operator-image.js';
import { adminKubeConfig, createTestNamespace, restrictedPodSecurity } from '../../harness/kube.js';
import { HOST_PATH_STORAGE_CLASS, hostPathVolumeFor } from '../../harness/node/host-path-volume.js';
import {
  type LocalNode,
  localNodeUnsupported,
  startLocalNode,
} from '../../harness/node/local-node.js';
import { superuserClient, withClient } from '../../harness/postgres.js';
import { testBucket, testPrefix, testS3Client } from '../../harness/s3.js';
import { requireEnv } from '../../harness/variables.js';
import { type BackupObject, expectCommitted } from '../committed-backup.js';
import {
  adaptQuickstart,
  createPostgresPods,
  installChart,
  listJobs,
  nodeToleration,
  quickstartSecrets,
  readQuickstart,
  removeChartClusterObjects,
  scheduledMinute,
  waitForEndedJobs,
} from './node-chain.js';
import { listPods, type PodObject, podLogs, waitForPodEnd } from './node-pods.js';

const unsupported = await localNodeUnsupported();
if (unsupported !== undefined) process.stderr.write(`test/e2e/node: skipped: ${unsupported}\n`);

/** The parts of a CronJob the test reads: its Jobs' pod template. */
interface CronJobObject {
  spec: {
    jobTemplate: {
      spec: {
        template: {
          spec: {
            securityContext?: Record<string, unknown>;
            containers: Record<string, unknown>[];
          } & Record<string, unknown>;
        };
      };
    };
  };
}

/**
 * A Pod made from a CronJob's pod template (the runner's user, read-only root, volumes and
 * tolerations as the controller rendered them) whose container runs `script` with sh.
 */
function podFromTemplate(name: string, cronJob: CronJobObject, script: string) {
  const template = cronJob.spec.jobTemplate.spec.template.spec;
  const [container] = template.containers;
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name },
    spec: {
      ...template,
      restartPolicy: 'Never',
      containers: [{ ...container, command: ['sh', '-c', script], args: [] }],
    },
  };
}

async function getJson<T>(args: readonly string[]): Promise<T> {
  return JSON.parse(await kubectl([...args, '-o', 'json'])) as T;
}

interface LeaseObject {
  metadata: { resourceVersion: string };
  spec: { holderIdentity?: string };
}

/** Waits until the controller has reconciled the policy's current generation. */
async function waitForPolicyGeneration(namespace: string): Promise<void> {
  await waitUntil(
    'the controller to reconcile the policy',
    async () => {
      const policy = await getJson<{
        metadata: { generation: number };
        status?: { observedGeneration?: number };
      }>(['get', `${BACKUP_POLICY_PLURAL}.${GROUP}`, 'orders', '-n', namespace]);
      return policy.status?.observedGeneration === policy.metadata.generation;
    },
    { timeoutMs: 120_000, intervalMs: 1_000 },
  );
}

/** The rows of the restore step's table, as one comparable line: their count and ordered md5. */
const ROWS_FINGERPRINT =
  "SELECT count(*) || ' ' || md5(string_agg(n::text, ',' ORDER BY n)) AS rows FROM e2e_restore";

/** Whether the pod's controller holds the Lease (its identity: the host name, a suffix). */
function isHeldBy(lease: LeaseObject, pod: PodObject | undefined): boolean {
  return lease.spec.holderIdentity?.startsWith(`${pod?.metadata.name}-`) === true;
}

describe.skipIf(unsupported !== undefined)('the chain on a real node', () => {
  let node: LocalNode;
  let images: OperatorImages;
  let namespace: string;
  const prefix = testPrefix();
  /** The release, named for the namespace: its cluster-wide RBAC must not meet another run's. */
  let release: string;
  let controller: string;
  /** PersistentVolumes made for claims (cluster-scoped: the namespace's deletion leaves them). */
  const volumes: string[] = [];

  beforeAll(async () => {
    const log = (message: string) => process.stderr.write(`node: ${message}\n`);
    [node, images] = await Promise.all([
      startLocalNode(requireEnv('PGBACKUP_ENV_DIR'), log),
      ensureOperatorImages(log),
    ]);
    await node.importImage(images.runtime.archive);
    await node.importImage(images.drill.archive);
    namespace = await createTestNamespace(adminKubeConfig(), restrictedPodSecurity);
    release = `pgb-${namespace}`;
    controller = `${release}-controller`;
  }, 1_800_000);

  afterAll(async () => {
    if (namespace !== undefined) {
      // While the controller runs: it removes the policy's finalizer (its replication slot).
      const policies = ['backuppolicies.pgbackup.dev', '--all', '-n', namespace];
      await kubectl(['delete', ...policies, '--timeout=60s']).catch(() => '');
      // A controller that could not drop the slot in time leaves it; the namespace must go.
      await kubectl([
        'patch',
        ...policies,
        '--type=merge',
        '-p',
        '{"metadata":{"finalizers":null}}',
      ]).catch(() => '');
      await removeChartClusterObjects(release).catch(() => undefined);
      await kubectl(['delete', 'namespace', namespace, '--wait=false']).catch(() => '');
    }
    for (const volume of volumes) {
      await kubectl(['delete', 'pv', volume, '--wait=false']).catch(() => '');
    }
    await node?.stop();
  }, 180_000);

  it('lists the node Ready with the pinned kubelet version', async () => {
    const nodeObject = await getJson<{
      status: {
        nodeInfo: { kubeletVersion: string; containerRuntimeVersion: string };
        conditions: { type: string; status: string }[];
        addresses: { type: string; address: string }[];
      };
    }>(['get', 'node', node.layout.name]);
    const { gitVersion } = pinnedKubernetesVersion();
    expect(nodeObject.status.nodeInfo.kubeletVersion).toBe(gitVersion);
    expect(nodeObject.status.nodeInfo.containerRuntimeVersion).toMatch(/^containerd:\/\/1\.6\./);
    expect(nodeObject.status.conditions).toContainEqual(
      expect.objectContaining({ type: 'Ready', status: 'True' }),
    );
    expect(nodeObject.status.addresses).toContainEqual({
      type: 'InternalIP',
      address: node.layout.nodeIp,
    });
    expect(await kubectl(['get', 'nodes', '--no-headers'])).toMatch(
      new RegExp(`^${node.layout.name}\\s+Ready\\s.*${gitVersion.replaceAll('.', '\\.')}$`, 'm'),
    );
  });

  it('installs the chart with the built image: the controller pod is Ready on the node and leads', async () => {
    await installChart(release, namespace, images, node);
    const [pod] = await listPods(namespace, `app.kubernetes.io/instance=${release}`);
    expect(pod?.spec.nodeName).toBe(node.layout.name);
    expect(pod?.status?.containerStatuses).toEqual([
      expect.objectContaining({ ready: true, imageID: images.runtime.imageId }),
    ]);
    await waitUntil(
      'the controller pod to hold the leader Lease',
      async () =>
        isHeldBy(await getJson<LeaseObject>(['get', 'lease', controller, '-n', namespace]), pod),
      { timeoutMs: 120_000, intervalMs: 1_000 },
    );
  }, 600_000);

  it('the CronJob controller fires the Jobs at the scheduled minute; their pods run the built images and commit the backups', async () => {
    const fireAtMs = scheduledMinute(Date.now());
    const quickstart = readQuickstart();
    const policy = adaptQuickstart(quickstart, { node, prefix, bucket: testBucket(), fireAtMs });
    await createPostgresPods(namespace, policy, node);
    await kubectlApply(namespace, [...quickstartSecrets(policy), policy]);
    // Today's daily and weekly lines and the drill fire at that minute (the monthly and
    // longer lines are triggered only on days 28 to 31).
    const jobs = await waitForEndedJobs(namespace, 4, 900_000);
    for (const job of jobs) {
      expect(job.metadata.ownerReferences).toEqual([
        expect.objectContaining({ kind: 'CronJob', controller: true }),
      ]);
      expect(job.metadata.annotations?.[CRONJOB_SCHEDULED_TIMESTAMP]).toBe(
        new Date(fireAtMs).toISOString().replace('.000Z', 'Z'),
      );
      expect(Date.parse(job.metadata.creationTimestamp)).toBeGreaterThanOrEqual(fireAtMs);
    }
    const pods = await listPods(namespace, 'job-name');
    const report = (pod: PodObject) => `${pod.metadata.name}: ${JSON.stringify(pod.status)}`;
    const isDrill = (pod: PodObject) => pod.metadata.labels?.[LABELS.type] === 'verify';
    for (const pod of pods) {
      const image = isDrill(pod) ? images.drill : images.runtime;
      const logs = await podLogs(namespace, pod.metadata.name);
      expect(pod.spec.nodeName, report(pod)).toBe(node.layout.name);
      expect(pod.status?.containerStatuses?.[0]?.imageID, report(pod)).toBe(image.imageId);
      if (isDrill(pod) && pod.status?.phase !== 'Succeeded') {
        // The drill fires with the backups; it may look before the first one is committed.
        expect(logs).toContain('no committed binary backup');
      } else {
        expect(pod.status?.phase, `${report(pod)}\n${logs}`).toBe('Succeeded');
        expect(logs).toMatch(/"msg":/);
      }
    }
    expect(pods.filter(isDrill)).toHaveLength(1);
    const backups = (
      await getJson<{ items: BackupObject[] }>(['get', 'backups', '-n', namespace])
    ).items.sort((a, b) =>
      `${a.spec.type}${a.spec.line}`.localeCompare(`${b.spec.type}${b.spec.line}`),
    );
    expect(backups.map((backup) => [backup.spec.type, backup.spec.line])).toEqual([
      ['binary', 'daily'],
      ['binary', 'weekly'],
      ['logical', 'weekly'],
    ]);
    for (const backup of backups) {
      await expectCommitted(backup, `${prefix}/${namespace}/${policy.metadata.name}/`);
    }
    const slots = await waitUntil(
      'the slot table to list the backups',
      async () => {
        const found = await getJson<{ status?: { slots?: { backup?: string }[] } }>([
          'get',
          `${BACKUP_POLICY_PLURAL}.${GROUP}`,
          policy.metadata.name,
          '-n',
          namespace,
        ]);
        const occupied = (found.status?.slots ?? []).filter((slot) => slot.backup !== undefined);
        return occupied.length === backups.length ? occupied : undefined;
      },
      { timeoutMs: 120_000, intervalMs: 1_000 },
    );
    expect(slots.map((slot) => slot.backup).sort()).toEqual(
      backups.map((backup) => backup.metadata.name).sort(),
    );
    expect((await listJobs(namespace)).length).toBe(4);
  }, 1_200_000);

  it('the drill image restores the committed backup on the node (a Job from the verify CronJob)', async () => {
    await kubectl(['create', 'job', 'verify-now', '--from=cronjob/orders-verify', '-n', namespace]);
    const [job] = await waitForEndedJobs(namespace, 5, 900_000).then((jobs) =>
      jobs.filter((found) => found.metadata.name === 'verify-now'),
    );
    const [pod] = await listPods(namespace, 'job-name=verify-now');
    const logs = pod === undefined ? '' : await podLogs(namespace, pod.metadata.name);
    expect(job?.status?.conditions, logs).toContainEqual(
      expect.objectContaining({ type: 'Complete', status: 'True' }),
    );
    expect(pod?.status?.containerStatuses?.[0]?.imageID).toBe(images.drill.imageId);
  }, 1_200_000);

  it('a run into a missing bucket fails with the reason in its pod log and Backup; the last good backup stays', async () => {
    const policyPath = [`${BACKUP_POLICY_PLURAL}.${GROUP}`, 'orders', '-n', namespace];
    await kubectl([
      'patch',
      ...policyPath,
      '--type=merge',
      '-p',
      '{"spec":{"storage":{"s3":{"bucket":"no-such-bucket"}}}}',
    ]);
    await waitForPolicyGeneration(namespace);
    await kubectl([
      'create',
      'job',
      'daily-no-bucket',
      '--from=cronjob/orders-binary-daily',
      '-n',
      namespace,
    ]);
    const [job] = (await waitForEndedJobs(namespace, 6, 600_000)).filter(
      (found) => found.metadata.name === 'daily-no-bucket',
    );
    expect(job?.status?.conditions).toContainEqual(
      expect.objectContaining({ type: 'Failed', status: 'True' }),
    );
    const [pod] = await listPods(namespace, 'job-name=daily-no-bucket');
    expect(await podLogs(namespace, pod?.metadata.name ?? '')).toContain(
      'bucket "no-such-bucket" does not exist',
    );
    const backups = (await getJson<{ items: BackupObject[] }>(['get', 'backups', '-n', namespace]))
      .items;
    expect(
      backups.filter((backup) => backup.status?.phase === 'Failed').map((b) => b.status?.message),
    ).toEqual([expect.stringContaining('bucket "no-such-bucket" does not exist')]);
    expect(backups.filter((backup) => backup.status?.phase === 'Completed')).toHaveLength(3);
    await kubectl([
      'patch',
      ...policyPath,
      '--type=merge',
      '-p',
      JSON.stringify({ spec: { storage: { s3: { bucket: testBucket() } } } }),
    ]);
    await waitForPolicyGeneration(namespace);
  }, 900_000);

  it('a run whose Secret is missing fails naming it in its pod log and Backup (runners read Secrets through the API); once it is back a new run completes', async () => {
    const secrets = quickstartSecrets(readQuickstart());
    const s3Secret = readQuickstart().spec.storage.s3.credentials?.secretName ?? 's3-creds';
    const named = `Secret ${namespace}/${s3Secret}`;
    const runDaily = async (name: string, endedJobs: number) => {
      await kubectl(['create', 'job', name, '--from=cronjob/orders-binary-daily', '-n', namespace]);
      const [job] = (await waitForEndedJobs(namespace, endedJobs, 600_000)).filter(
        (found) => found.metadata.name === name,
      );
      const [pod] = await listPods(namespace, `job-name=${name}`);
      return { job, logs: await podLogs(namespace, pod?.metadata.name ?? '') };
    };
    await kubectl(['delete', 'secret', s3Secret, '-n', namespace]);
    const failed = await runDaily('daily-no-secret', 7);
    expect(failed.job?.status?.conditions, failed.logs).toContainEqual(
      expect.objectContaining({ type: 'Failed', status: 'True' }),
    );
    expect(failed.logs).toContain(named);
    const backups = (await getJson<{ items: BackupObject[] }>(['get', 'backups', '-n', namespace]))
      .items;
    // The missing bucket's run failed before this one.
    expect(
      backups.filter((backup) => backup.status?.phase === 'Failed').map((b) => b.status?.message),
    ).toEqual(
      expect.arrayContaining([
        expect.stringContaining('bucket "no-such-bucket" does not exist'),
        expect.stringContaining(named),
      ]),
    );
    await kubectlApply(namespace, secrets);
    const again = await runDaily('daily-with-secret', 8);
    expect(again.job?.status?.conditions, again.logs).toContainEqual(
      expect.objectContaining({ type: 'Complete', status: 'True' }),
    );
  }, 900_000);

  it('inside a runner container the process runs as uid 65532 and cannot write outside /tmp; a template asking for root is refused at admission', async () => {
    const cronJob = await getJson<CronJobObject>([
      'get',
      'cronjob',
      'orders-binary-daily',
      '-n',
      namespace,
    ]);
    const script = [
      'echo uid=$(id -u)',
      'if touch /probe 2>/dev/null; then echo root=writable; else echo root=read-only; fi',
      'if touch /tmp/probe; then echo tmp=writable; fi',
    ].join('; ');
    await kubectlApply(namespace, [podFromTemplate('runner-probe', cronJob, script)]);
    const pod = await waitForPodEnd(namespace, 'runner-probe');
    expect(pod.spec.nodeName).toBe(node.layout.name);
    expect(pod.status?.containerStatuses?.[0]?.imageID).toBe(images.runtime.imageId);
    expect(await podLogs(namespace, 'runner-probe')).toBe(
      'uid=65532\nroot=read-only\ntmp=writable\n',
    );
    const asRoot = podFromTemplate('runner-as-root', cronJob, 'id -u');
    const root = {
      ...asRoot,
      spec: {
        ...asRoot.spec,
        securityContext: { ...asRoot.spec.securityContext, runAsNonRoot: false, runAsUser: 0 },
      },
    };
    await expect(kubectlApply(namespace, [root])).rejects.toThrow(
      /violates PodSecurity "restricted:latest".*runAsNonRoot != true/s,
    );
  });

  it('replaces a deleted controller pod; the new pod takes the Lease, and at rest nothing is written', async () => {
    const [old] = await listPods(namespace, `app.kubernetes.io/instance=${release}`);
    await kubectl(['delete', 'pod', old?.metadata.name ?? '', '-n', namespace, '--wait=true']);
    const replacement = await waitUntil(
      'a new controller pod to be Ready and lead',
      async () => {
        const pods = await listPods(namespace, `app.kubernetes.io/instance=${release}`);
        const ready = pods.find(
          (pod) =>
            pod.metadata.name !== old?.metadata.name &&
            pod.status?.containerStatuses?.[0]?.ready === true,
        );
        if (ready === undefined) return undefined;
        const lease = await getJson<LeaseObject>(['get', 'lease', controller, '-n', namespace]);
        return isHeldBy(lease, ready) ? ready : undefined;
      },
      { timeoutMs: 300_000, intervalMs: 1_000 },
    );
    expect(replacement.spec.nodeName).toBe(node.layout.name);
    /** Versions of everything the controller writes (the Lease aside: renewing it is its job). */
    const versions = async () =>
      kubectl([
        'get',
        `${BACKUP_POLICY_PLURAL}.${GROUP},backups.${GROUP},cronjobs,roles,rolebindings,serviceaccounts`,
        '-n',
        namespace,
        '-o',
        'jsonpath={range .items[*]}{.kind}/{.metadata.name}={.metadata.resourceVersion}{"\\n"}{end}',
      ]);
    // The new leader's first pass over the policy may write once; after it, nothing changes.
    const settled = await waitUntil(
      'the new leader to be at rest',
      async () => {
        const before = await versions();
        await new Promise((resolve) => setTimeout(resolve, 15_000));
        return before === (await versions()) ? before : undefined;
      },
      { timeoutMs: 180_000 },
    );
    expect(settled).toContain('BackupPolicy/orders=');
  }, 600_000);

  it('continuous protection on the node: the receiver Deployment runs the built image on its spool claim, streams WAL into the bucket, and is removed with its slot when disabled', async () => {
    const policyPath = [`${BACKUP_POLICY_PLURAL}.${GROUP}`, 'orders', '-n', namespace];
    const claim = { namespace, name: walSpoolClaimNameOf('orders'), size: '1Gi' };
    await kubectlApply(namespace, [await hostPathVolumeFor(node, claim)]);
    volumes.push(`${namespace}-${claim.name}`);
    const continuous = {
      enabled: true,
      uploadInterval: '5s',
      spool: { size: claim.size, storageClassName: HOST_PATH_STORAGE_CLASS },
    };
    await kubectl([
      'patch',
      ...policyPath,
      '--type=merge',
      '-p',
      JSON.stringify({ spec: { continuous } }),
    ]);
    const selector = `app.kubernetes.io/component=${WAL_RECEIVER_COMPONENT}`;
    const receiver = await waitUntil(
      'the receiver pod to be Ready on the node',
      async () => {
        const [pod] = await listPods(namespace, selector);
        return pod?.status?.containerStatuses?.[0]?.ready === true ? pod : undefined;
      },
      { timeoutMs: 300_000, intervalMs: 2_000 },
    );
    expect(receiver.spec.nodeName).toBe(node.layout.name);
    expect(receiver.status?.containerStatuses?.[0]?.imageID).toBe(images.runtime.imageId);
    const walPrefix = `${prefix}/${namespace}/orders/wal/`;
    // A segment switch on the primary (the environment's, which the node's pods reach): the
    // receiver's completed segment reaches the bucket and its status.
    const switched = await withClient(superuserClient('primary'), async (client) => {
      await client.query('CREATE TABLE IF NOT EXISTS e2e_wal (n int)');
      await client.query('INSERT INTO e2e_wal SELECT generate_series(1, 1000)');
      const { rows } = await client.query<{ file: string }>(
        'SELECT pg_walfile_name(pg_switch_wal()) AS file',
      );
      return rows[0]?.file ?? '';
    });
    const archived = await waitUntil(
      `segment ${switched} in ${walPrefix} and status.continuous Streaming past it`,
      async () => {
        const policy = await getJson<{
          status?: { continuous?: { state?: string; lastArchived?: { file?: string } } };
        }>(['get', ...policyPath]);
        const status = policy.status?.continuous;
        const last = status?.lastArchived?.file ?? '';
        if (status?.state !== 'Streaming' || last.slice(8) < switched.slice(8)) return undefined;
        const listed = await testS3Client().send(
          new ListObjectsV2Command({ Bucket: testBucket(), Prefix: `${walPrefix}${switched}` }),
        );
        return (listed.Contents ?? []).some((object) => object.Key?.endsWith('.partial') === false)
          ? last
          : undefined;
      },
      { timeoutMs: 180_000, intervalMs: 2_000 },
    );
    expect(archived.slice(8) >= switched.slice(8)).toBe(true);
    const slot = walSlotNameOf(namespace, 'orders');
    const slotActive = () =>
      withClient(superuserClient('primary'), async (client) => {
        const { rows } = await client.query<{ active: boolean }>(
          'SELECT active FROM pg_replication_slots WHERE slot_name = $1',
          [slot],
        );
        return rows[0]?.active;
      });
    expect(await slotActive()).toBe(true);
    await kubectl([
      'patch',
      ...policyPath,
      '--type=merge',
      '-p',
      JSON.stringify({ spec: { continuous: { enabled: false } } }),
    ]);
    await waitUntil(
      'the receiver pod gone and its slot dropped',
      async () =>
        (await listPods(namespace, selector)).length === 0 && (await slotActive()) === undefined,
      { timeoutMs: 180_000, intervalMs: 2_000 },
    );
  }, 900_000);

  it('restores inside the cluster on the node: a Restore applied with kubectl runs its Job on a claim, and PostgreSQL started on that claim serves the rows', async () => {
    const expected = await withClient(superuserClient('primary'), async (client) => {
      await client.query('DROP TABLE IF EXISTS e2e_restore');
      await client.query('CREATE TABLE e2e_restore AS SELECT generate_series(1, 4321) AS n');
      const { rows } = await client.query<{ rows: string }>(ROWS_FINGERPRINT);
      return rows[0]?.rows ?? '';
    });
    await kubectlApply(namespace, [
      {
        apiVersion: API_VERSION,
        kind: 'Backup',
        metadata: { name: 'before-restore' },
        spec: { policy: 'orders', type: 'binary' },
      },
    ]);
    const backup = await waitUntil(
      'the on-demand Backup to complete',
      async () => {
        const found = await getJson<BackupObject>([
          'get',
          'backup',
          'before-restore',
          '-n',
          namespace,
        ]);
        if (found.status?.phase === 'Failed') throw new Error(JSON.stringify(found.status));
        return found.status?.phase === 'Completed' ? found : undefined;
      },
      { timeoutMs: 600_000, intervalMs: 2_000 },
    );
    const claim = { namespace, name: 'restored-orders', size: '1Gi' };
    await kubectlApply(namespace, [await hostPathVolumeFor(node, claim)]);
    volumes.push(`${namespace}-${claim.name}`);
    await kubectlApply(namespace, [
      {
        apiVersion: API_VERSION,
        kind: 'Restore',
        metadata: { name: 'orders-on-node' },
        spec: {
          policy: 'orders',
          line: 'on-demand',
          pvc: { name: claim.name, size: claim.size, storageClassName: HOST_PATH_STORAGE_CLASS },
        },
      },
    ]);
    const restore = await waitUntil(
      'the Restore to succeed',
      async () => {
        const found = await getJson<{
          status?: { phase?: string; message?: string; backup?: string; jobName?: string };
        }>(['get', RESTORE_PLURAL, 'orders-on-node', '-n', namespace]);
        if (found.status?.phase === 'Failed') throw new Error(JSON.stringify(found.status));
        return found.status?.phase === 'Succeeded' ? found.status : undefined;
      },
      { timeoutMs: 900_000, intervalMs: 2_000 },
    );
    // The Restore took the on-demand backup just made (its key is the artifact's directory).
    expect(backup.status?.artifact?.key.startsWith(restore.backup ?? 'none')).toBe(true);
    const [jobPod] = await listPods(namespace, `job-name=${restore.jobName}`);
    expect(jobPod?.spec.nodeName).toBe(node.layout.name);
    expect(jobPod?.status?.containerStatuses?.[0]?.imageID).toBe(images.drill.imageId);
    // The drill image has each major's programs where Debian puts them, as this machine does.
    const bin = requireEnv('PGBACKUP_PG_BIN');
    const script = [
      'set -e',
      "printf 'local all all trust\\n' > /tmp/hba.conf",
      `${bin}/pg_ctl -D /restore/pgdata -w -l /tmp/pg.log -o "-c listen_addresses='' -c unix_socket_directories=/tmp -c hba_file=/tmp/hba.conf -c archive_mode=off" start || { cat /tmp/pg.log; exit 1; }`,
      `${bin}/psql -h /tmp -d postgres -U "$RESTORED_USER" -Atc "${ROWS_FINGERPRINT}"`,
      `${bin}/pg_ctl -D /restore/pgdata -w -m fast stop`,
    ].join('\n');
    await kubectlApply(namespace, [
      {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'restored-postgres' },
        spec: {
          restartPolicy: 'Never',
          tolerations: [nodeToleration(node)],
          securityContext: RUNNER_POD_SECURITY_CONTEXT,
          containers: [
            {
              name: 'postgres',
              image: images.drill.reference,
              imagePullPolicy: 'Never',
              command: ['sh', '-c', script],
              env: [{ name: 'RESTORED_USER', value: requireEnv('PGUSER') }],
              securityContext: RUNNER_CONTAINER_SECURITY_CONTEXT,
              volumeMounts: [
                { name: 'data', mountPath: '/restore' },
                { name: 'tmp', mountPath: '/tmp' },
              ],
            },
          ],
          volumes: [
            { name: 'data', persistentVolumeClaim: { claimName: claim.name } },
            { name: 'tmp', emptyDir: {} },
          ],
        },
      },
    ]);
    const pod = await waitForPodEnd(namespace, 'restored-postgres');
    const logs = await podLogs(namespace, 'restored-postgres');
    expect(pod.status?.phase, logs).toBe('Succeeded');
    expect(pod.spec.nodeName).toBe(node.layout.name);
    // Between pg_ctl's own lines ("server started", "server stopped"): psql's one line.
    expect(logs.split('\n')).toContain(expected);
  }, 1_500_000);
});
