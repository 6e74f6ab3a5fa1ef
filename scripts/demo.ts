/**
 * `npm run demo`: the whole chain on this machine, as a user meets it.
 *
 * Where the machine can run containers (root, containerd, runc: docs/local-node.md) it runs
 * on a real node: the image built from the Dockerfile, `helm install` of the chart, the
 * quickstart applied with its time of day two minutes ahead, and the CronJob controller
 * firing the Jobs, whose pods the kubelet runs. Elsewhere it falls back to the local executor,
 * as described below, and says so.
 *
 * Starts the local environment (PostgreSQL primary + replica, MinIO, kube-apiserver and
 * kube-controller-manager), installs the CRDs and the chart's controller RBAC, runs the
 * controller as the chart's service account, creates pods that stand for the primary and the
 * replica (labelled like a CloudNativePG cluster, pod IPs on the loopback addresses), applies
 * examples/quickstart.yaml with its Secrets, creates a Job from each CronJob (as `kubectl
 * create job --from=cronjob/NAME`), runs the Jobs' pods with the local executor, and prints
 * the result as `kubectl get backups` shows it, the policy's slot table, and the bucket's keys.
 *
 *   npm run demo              # idempotent: run again the same day, each run finds today's
 *                             # backups committed and skips with a message
 *   npm run demo -- --down    # removes what it made and stops the environment
 *   npm run demo -- --local-executor   # the local executor even where the node could run
 *
 * The controller and the executor run only while the demo does: with no kubelet on the
 * machine, a controller left running would only make CronJob pods that nothing runs.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { DeleteObjectsCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { BACKUP_POLICY_PLURAL, GROUP } from '../src/api/index.js';
import {
  KubeClient,
  type KubeObject,
  loadKubeConnection,
  RESOURCES,
  resourcePath,
} from '../src/kube/index.js';
import { policyKeyPrefix } from '../src/storage/index.js';
import { installCrds } from '../test/controlplane/api/install-crds.js';
import {
  createJobsFromCronJobs,
  createStandInPostgresPods,
  type JobOutcome,
  policyCronJobs,
  waitForJobs,
} from '../test/e2e/chain-steps.js';
import {
  adaptQuickstart as adaptQuickstartToNode,
  createPostgresPods,
  installChart,
  listJobs,
  type QuickstartPolicy,
  quickstartSecrets,
  readQuickstart,
  scheduledMinute,
} from '../test/e2e/node/node-chain.js';
import { onTimeSchedule } from '../test/e2e/on-time-schedule.js';
import { renderChartObjects } from '../test/harness/chart.js';
import { kubectl, kubectlApply } from '../test/harness/cluster-objects.js';
import {
  type ControllerProcess,
  startControllerProcess,
  writeKubeConfigFile,
} from '../test/harness/controller-process.js';
import {
  downEnvironment,
  environmentIsRunning,
  upEnvironment,
} from '../test/harness/env/environment.js';
import { waitUntil } from '../test/harness/env/processes.js';
import { ensureBuiltOperator } from '../test/harness/executor/built-operator.js';
import { type LocalExecutor, startLocalExecutor } from '../test/harness/executor/local-executor.js';
import { logTail } from '../test/harness/executor/pod-status.js';
import { ensureOperatorImages } from '../test/harness/image/operator-image.js';
import {
  adminKubeConfig,
  restrictedPodSecurity,
  serviceAccountKubeConfig,
} from '../test/harness/kube.js';
import {
  type LocalNode,
  localNodeUnsupported,
  startLocalNode,
} from '../test/harness/node/local-node.js';
import { testBucket, testS3Client } from '../test/harness/s3.js';
import { requireEnv } from '../test/harness/variables.js';

/** Everything the demo makes lives in this namespace (and the release's cluster RBAC). */
const NAMESPACE = 'pgbackup-demo';
const RELEASE = { name: 'pgbackup', namespace: NAMESPACE };
const EXECUTOR_NODE = 'pgbackup-demo-executor';
const CLUSTER = 'orders';

const startedMs = Date.now();

function step(message: string): void {
  const seconds = ((Date.now() - startedMs) / 1000).toFixed(1).padStart(5);
  process.stderr.write(`demo [${seconds} s] ${message}\n`);
}

/**
 * The quickstart with two kinds of change, printed as the demo applies them: storage points
 * at the local MinIO, and the schedule's time (and weekday) at two minutes ago, so the runs
 * started now are on time for today's daily and weekly lines (a run more than `lateness`
 * after its line's fire time fails as too late, and the quickstart's 01:00 has long passed).
 */
function adaptQuickstart(policy: QuickstartPolicy, nowMs: number): QuickstartPolicy {
  const schedule = { ...policy.spec.schedule, ...onTimeSchedule(nowMs, policy.spec.timeZone) };
  const s3 = {
    ...policy.spec.storage.s3,
    bucket: testBucket(),
    region: requireEnv('AWS_REGION'),
    endpoint: requireEnv('PGBACKUP_S3_ENDPOINT'),
    forcePathStyle: true,
  };
  step(
    `applying examples/quickstart.yaml with spec.schedule ${JSON.stringify(schedule)} and spec.storage.s3 bucket=${s3.bucket} endpoint=${s3.endpoint} region=${s3.region} forcePathStyle=true`,
  );
  return { ...policy, spec: { ...policy.spec, schedule, storage: { ...policy.spec.storage, s3 } } };
}

async function installControllerRbac(): Promise<string> {
  const objects = await renderChartObjects('controller-rbac.yaml', RELEASE);
  await kubectlApply(NAMESPACE, objects);
  const account = objects.find((object) => object.kind === 'ServiceAccount') as
    | { metadata: { name: string } }
    | undefined;
  if (account === undefined) throw new Error('the chart renders no ServiceAccount');
  const as = `system:serviceaccount:${NAMESPACE}:${account.metadata.name}`;
  // The authorizer reads RBAC through an informer: wait for the grant to land.
  await waitUntil(
    'the chart RBAC to take effect',
    async () => {
      const answer = await kubectl([
        'auth',
        'can-i',
        'list',
        `${BACKUP_POLICY_PLURAL}.${GROUP}`,
        '-n',
        NAMESPACE,
        '--as',
        as,
      ]).catch(() => 'no');
      return answer.trim() === 'yes';
    },
    { timeoutMs: 120_000 },
  );
  return account.metadata.name;
}

async function startController(admin: ReturnType<typeof adminKubeConfig>, account: string) {
  const kubeconfig = writeKubeConfigFile(
    await serviceAccountKubeConfig(admin, { namespace: NAMESPACE, name: account }),
  );
  return startControllerProcess(kubeconfig, [
    '--namespaces',
    NAMESPACE,
    '--lease-namespace',
    NAMESPACE,
  ]);
}

interface PolicyStatus {
  observedGeneration?: number;
  conditions?: { type: string; status: string; message?: string }[];
  cronJobs?: { name: string }[];
  slots?: {
    type: string;
    line: string;
    slot: number;
    label: string;
    backup?: string;
    time?: string;
    sizeBytes?: number;
    stale?: boolean;
  }[];
}

function getPolicy(
  client: KubeClient,
  name: string,
): Promise<KubeObject & { status?: PolicyStatus }> {
  return client.request({
    verb: 'get',
    path: resourcePath(RESOURCES.backupPolicy, { namespace: NAMESPACE, name }),
    what: `get BackupPolicy ${NAMESPACE}/${name}`,
  });
}

/** Waits until the controller has reconciled the policy's current generation into CronJobs. */
async function waitForCronJobs(client: KubeClient, name: string): Promise<KubeObject[]> {
  return waitUntil(
    `the controller to reconcile BackupPolicy ${name}`,
    async () => {
      const policy = await getPolicy(client, name);
      const status = policy.status ?? {};
      const ready = status.conditions?.find((condition) => condition.type === 'Ready');
      if (status.observedGeneration !== policy.metadata.generation || ready?.status !== 'True') {
        return undefined;
      }
      const cronJobs = await policyCronJobs(client, NAMESPACE, name);
      return cronJobs.length === (status.cronJobs ?? []).length ? cronJobs : undefined;
    },
    { timeoutMs: 120_000 },
  );
}

function humanSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

async function printSlots(client: KubeClient, name: string): Promise<void> {
  const slots = (await getPolicy(client, name)).status?.slots ?? [];
  const occupied = slots.filter((slot) => slot.backup !== undefined);
  console.log(
    `\n$ kubectl get backuppolicy ${name} -o jsonpath='{.status.slots}'   (occupied slots)`,
  );
  console.log('TYPE     LINE       SLOT  LABEL   SIZE        STALE  BACKUP');
  for (const slot of occupied) {
    console.log(
      [
        slot.type.padEnd(8),
        slot.line.padEnd(10),
        String(slot.slot).padEnd(5),
        slot.label.padEnd(7),
        humanSize(slot.sizeBytes ?? 0).padEnd(11),
        String(slot.stale ?? false).padEnd(6),
        slot.backup,
      ].join(' '),
    );
  }
  console.log(`(${slots.length - occupied.length} of ${slots.length} slots empty)`);
}

async function listObjects(prefix: string): Promise<{ key: string; sizeBytes: number }[]> {
  const objects: { key: string; sizeBytes: number }[] = [];
  let token: string | undefined;
  do {
    const page = await testS3Client().send(
      new ListObjectsV2Command({ Bucket: testBucket(), Prefix: prefix, ContinuationToken: token }),
    );
    for (const object of page.Contents ?? []) {
      objects.push({ key: object.Key ?? '', sizeBytes: object.Size ?? 0 });
    }
    token = page.IsTruncated === true ? page.NextContinuationToken : undefined;
  } while (token !== undefined);
  return objects;
}

function policyPrefixes(policy: QuickstartPolicy): string[] {
  const location = {
    prefix: policy.spec.storage.s3.prefix ?? '',
    namespace: NAMESPACE,
    policy: policy.metadata.name,
  };
  return [
    policyKeyPrefix({ ...location, type: 'binary' }),
    policyKeyPrefix({ ...location, type: 'logical' }),
  ];
}

async function printBucket(policy: QuickstartPolicy): Promise<void> {
  for (const prefix of policyPrefixes(policy)) {
    console.log(`\n$ aws s3 ls --recursive s3://${testBucket()}/${prefix}`);
    for (const object of await listObjects(prefix)) {
      console.log(`${String(object.sizeBytes).padStart(12)}  ${object.key}`);
    }
  }
}

async function runJobs(
  client: KubeClient,
  cronJobs: KubeObject[],
  run: { nowMs: number; operatorMain: string },
) {
  const executor: LocalExecutor = await startLocalExecutor({
    client,
    apiServer: adminKubeConfig().getCurrentCluster()?.server ?? '',
    namespace: NAMESPACE,
    nodeName: EXECUTOR_NODE,
    workDir: join(requireEnv('PGBACKUP_ENV_DIR'), 'demo', 'executor'),
    operatorMain: run.operatorMain,
  });
  try {
    const jobs = await createJobsFromCronJobs(client, cronJobs, run.nowMs);
    step(`created Jobs ${jobs.join(', ')}; the local executor runs their pods`);
    const outcomes = await waitForJobs(client, NAMESPACE, jobs, 600_000);
    for (const pod of executor.finished().filter((finished) => finished.exitCode !== 0)) {
      process.stderr.write(`\npod ${pod.name} exited ${pod.exitCode}; the end of its log:\n`);
      process.stderr.write(`${logTail(executor.logOf(pod.name), 20)}\n`);
    }
    step(`pod logs are in ${executor.logDir}`);
    return outcomes;
  } finally {
    await executor.stop();
  }
}

/** `localExecutor`: use the local executor even where the real node could run. */
async function up(localExecutor: boolean): Promise<number> {
  step('starting the local environment (the first run builds the servers with Go)');
  Object.assign(process.env, await upEnvironment((message) => step(`env: ${message}`)));
  mkdirSync(join(requireEnv('PGBACKUP_ENV_DIR'), 'demo'), { recursive: true });
  step('installing the CRDs');
  await installCrds();
  await kubectlApply(NAMESPACE, [
    {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: NAMESPACE, labels: restrictedPodSecurity },
    },
  ]);
  const client = await KubeClient.create(
    await loadKubeConnection(process.env, requireEnv('KUBECONFIG')),
  );
  try {
    const unsupported = localExecutor ? '--local-executor' : await localNodeUnsupported();
    if (unsupported === undefined) return await upOnNode(client);
    step(`not on a real node (${unsupported}): the local executor runs the pods`);
    return await upWithExecutor(client);
  } finally {
    client.close();
  }
}

/**
 * The chain on a real node (docs/local-node.md): the image built from the Dockerfile, the
 * chart installed with helm, and the CronJob controller firing the Jobs on schedule.
 */
async function upOnNode(client: KubeClient): Promise<number> {
  step('running on a real node: kubelet, containerd and runc on this machine (docs/local-node.md)');
  const [node, images] = await Promise.all([
    startLocalNode(requireEnv('PGBACKUP_ENV_DIR'), (message) => step(`node: ${message}`)),
    ensureOperatorImages((message) => step(`image: ${message}`)),
  ]);
  try {
    step(`importing ${images.runtime.reference} and its -drill image into the node's containerd`);
    await node.importImage(images.runtime.archive);
    await node.importImage(images.drill.archive);
    step(
      `helm upgrade --install ${RELEASE.name} charts/pgbackup-operator (image ${images.runtime.reference})`,
    );
    await installChart(RELEASE.name, NAMESPACE, images, node);
    return await runChainOnNode(client, node);
  } finally {
    step('stopping the node (its controller pod and runs go with it)');
    await node.stop();
  }
}

async function runChainOnNode(client: KubeClient, node: LocalNode): Promise<number> {
  const quickstart = readQuickstart();
  step(`creating pods for the primary and replica, labelled cnpg.io/cluster=${CLUSTER}`);
  await createPostgresPods(NAMESPACE, quickstart, node);
  const fireAtMs = scheduledMinute(Date.now());
  const adapted = adaptQuickstartToNode(quickstart, {
    node,
    prefix: quickstart.spec.storage.s3.prefix ?? '',
    bucket: testBucket(),
    fireAtMs,
  });
  // No drill: fired with the first backups, it would find none committed yet.
  const policy = { ...adapted, spec: { ...adapted.spec, verify: { schedule: 'never' } } };
  step(
    `applying examples/quickstart.yaml with spec.schedule ${JSON.stringify(policy.spec.schedule)}, spec.storage.s3 endpoint=${node.endpoints.s3} bucket=${testBucket()}, and the node's toleration`,
  );
  await kubectlApply(NAMESPACE, [...quickstartSecrets(policy), policy]);
  const cronJobs = await waitForCronJobs(client, policy.metadata.name);
  step(
    `the controller (the chart's pod) made ${cronJobs.length} CronJobs; the CronJob controller fires today's at ${new Date(fireAtMs).toISOString()}`,
  );
  const scheduled = new Date(fireAtMs).toISOString().replace('.000Z', 'Z');
  // The CronJob controller makes them within seconds of the minute; give it a little longer.
  const jobs = await waitUntil(
    'the CronJob controller to fire the Jobs',
    async () => {
      if (Date.now() < fireAtMs + 30_000) return undefined;
      const fired = (await listJobs(NAMESPACE)).filter(
        (job) =>
          job.metadata.annotations?.['batch.kubernetes.io/cronjob-scheduled-timestamp'] ===
          scheduled,
      );
      return fired.length > 0 ? fired.map((job) => job.metadata.name) : undefined;
    },
    { timeoutMs: fireAtMs - Date.now() + 180_000, intervalMs: 2_000 },
  );
  step(`the CronJob controller created Jobs ${jobs.join(', ')}; the kubelet runs their pods`);
  const outcomes = await waitForJobs(client, NAMESPACE, jobs, 900_000);
  step(`pod logs: kubectl -n ${NAMESPACE} logs job/NAME`);
  return finish(client, policy, outcomes, fireAtMs);
}

async function upWithExecutor(client: KubeClient): Promise<number> {
  const admin = adminKubeConfig();
  step('installing the chart RBAC');
  const account = await installControllerRbac();
  step(`starting the controller as ServiceAccount ${NAMESPACE}/${account}`);
  let controller: ControllerProcess | undefined;
  try {
    const [started, operatorMain] = await Promise.all([
      startController(admin, account),
      ensureBuiltOperator(),
    ]);
    controller = started;
    return await runChain(client, operatorMain);
  } catch (error) {
    if (controller !== undefined) process.stderr.write(`controller log:\n${controller.logs()}\n`);
    throw error;
  } finally {
    await controller?.stop();
  }
}

async function runChain(client: KubeClient, operatorMain: string): Promise<number> {
  const quickstart = readQuickstart();
  step(`creating pods for the primary and replica, labelled cnpg.io/cluster=${CLUSTER}`);
  await createStandInPostgresPods(
    NAMESPACE,
    CLUSTER,
    quickstart.spec.target.selector?.matchLabels ?? {},
  );
  const nowMs = Date.now();
  const policy = adaptQuickstart(quickstart, nowMs);
  await kubectlApply(NAMESPACE, [...quickstartSecrets(policy), policy]);
  const cronJobs = await waitForCronJobs(client, policy.metadata.name);
  step(`the controller made ${cronJobs.length} CronJobs`);
  const outcomes = await runJobs(client, cronJobs, { nowMs, operatorMain });
  return finish(client, policy, outcomes, nowMs);
}

/** Prints what the runs did and how to explore it; the exit code says whether all succeeded. */
async function finish(
  client: KubeClient,
  policy: QuickstartPolicy,
  outcomes: Map<string, JobOutcome>,
  runStartedMs: number,
): Promise<number> {
  await printResults(client, policy, outcomes, runStartedMs);
  const failed = [...outcomes].filter(([, outcome]) => outcome === 'Failed');
  step(`done in ${((Date.now() - startedMs) / 1000).toFixed(0)} s`);
  process.stderr.write(
    `\nExplore it: export KUBECONFIG=${requireEnv('KUBECONFIG')} PATH=${requireEnv('PGBACKUP_KUBE_BIN')}:$PATH\n  kubectl -n ${NAMESPACE} get backuppolicy,cronjobs,jobs,backups\nRemove it: npm run demo -- --down\n`,
  );
  if (failed.length > 0) {
    process.stderr.write(
      `demo: ${failed.length} Job(s) failed: ${failed.map(([name]) => name).join(', ')}\n`,
    );
    return 1;
  }
  return 0;
}

interface BackupObject {
  metadata: { name: string; creationTimestamp?: string };
  status?: { phase?: string; message?: string };
}

/** What each run of this demo recorded: its Backup's phase and, for a skip or failure, why. */
async function printThisRun(client: KubeClient, sinceMs: number): Promise<void> {
  const list = await client.request<{ items: BackupObject[] }>({
    verb: 'list',
    path: resourcePath(RESOURCES.backup, { namespace: NAMESPACE }),
    what: 'list Backups',
  });
  const recent = list.items.filter(
    (backup) => Date.parse(backup.metadata.creationTimestamp ?? '') >= sinceMs - 1000,
  );
  console.log(`\nthe Backups these Jobs recorded (kubectl -n ${NAMESPACE} describe backup NAME):`);
  for (const backup of recent.sort((a, b) => a.metadata.name.localeCompare(b.metadata.name))) {
    const { phase = '', message = '' } = backup.status ?? {};
    console.log(`${backup.metadata.name.padEnd(44)} ${phase.padEnd(10)} ${message}`);
  }
}

async function printResults(
  client: KubeClient,
  policy: QuickstartPolicy,
  outcomes: Map<string, JobOutcome>,
  runStartedMs: number,
): Promise<void> {
  console.log(`\n$ kubectl -n ${NAMESPACE} get jobs`);
  for (const [name, outcome] of outcomes) console.log(`${name.padEnd(48)} ${outcome}`);
  await printThisRun(client, runStartedMs);
  console.log(`\n$ kubectl -n ${NAMESPACE} get backups`);
  process.stdout.write(
    await kubectl(['get', 'backups', '-n', NAMESPACE, '--sort-by=.metadata.creationTimestamp']),
  );
  await printSlots(client, policy.metadata.name);
  await printBucket(policy);
}

async function deleteDemoObjects(): Promise<void> {
  step(`deleting namespace ${NAMESPACE}, the chart's cluster RBAC and Node ${EXECUTOR_NODE}`);
  await kubectl(['delete', 'namespace', NAMESPACE, '--ignore-not-found', '--wait=true']);
  const clusterScoped = (await renderChartObjects('controller-rbac.yaml', RELEASE)).filter(
    (object) => object.kind === 'ClusterRole' || object.kind === 'ClusterRoleBinding',
  );
  for (const object of clusterScoped) {
    const { kind, metadata } = object as { kind: string; metadata: { name: string } };
    await kubectl(['delete', kind.toLowerCase(), metadata.name, '--ignore-not-found']);
  }
  await kubectl(['delete', 'node', EXECUTOR_NODE, '--ignore-not-found']);
  for (const prefix of policyPrefixes(readQuickstart())) {
    const keys = (await listObjects(prefix)).map((object) => ({ Key: object.key }));
    for (let start = 0; start < keys.length; start += 1000) {
      await testS3Client().send(
        new DeleteObjectsCommand({
          Bucket: testBucket(),
          Delete: { Objects: keys.slice(start, start + 1000) },
        }),
      );
    }
  }
}

async function down(): Promise<number> {
  if (environmentIsRunning()) {
    Object.assign(process.env, await upEnvironment());
    await deleteDemoObjects();
  }
  step('stopping the local environment and removing its state');
  await downEnvironment();
  return 0;
}

// The SDK's notice that its 2027 releases need Node 22 is not news for a demo on Node 20.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const args = process.argv.slice(2);
if (args.some((arg) => arg !== '--down' && arg !== '--local-executor')) {
  process.stderr.write('usage: npm run demo [-- --down | --local-executor]\n');
  process.exit(2);
}
process.exitCode = await (args.includes('--down') ? down() : up(args.includes('--local-executor')));
