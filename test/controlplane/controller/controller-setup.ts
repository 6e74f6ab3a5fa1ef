/**
 * What every controller test starts from: the CRDs, a fresh namespace enforcing the
 * `restricted` Pod Security level, the chart's controller RBAC rendered for a release in
 * that namespace, and a kubeconfig of the chart's service account.
 */
import { type KubeConfig, RbacAuthorizationV1Api } from '@kubernetes/client-node';
import { afterAll, beforeAll, vi } from 'vitest';
import { API_VERSION, BACKUP_POLICY_PLURAL, GROUP, VERSION } from '../../../src/api/index.js';
import { connectionOfKubeConfig, KubeClient, type KubeObject } from '../../../src/kube/index.js';
import { renderChartObjects } from '../../harness/chart.js';
import { environmentSecrets, kubectlApply } from '../../harness/cluster-objects.js';
import {
  type ControllerProcess,
  startControllerProcess,
  writeKubeConfigFile,
} from '../../harness/controller-process.js';
import { fixtureYaml } from '../../harness/fixtures.js';
import {
  adminKubeConfig,
  createTestNamespace,
  restrictedPodSecurity,
  serviceAccountKubeConfig,
} from '../../harness/kube.js';
import { testBucket, testPrefix } from '../../harness/s3.js';
import { requireEnv } from '../../harness/variables.js';
import { installCrds } from '../api/install-crds.js';

/** A namespace prepared for a controller running as the chart's service account. */
export interface ControllerTestEnv {
  readonly admin: KubeConfig;
  /** The admin's client, for arranging and inspecting objects. */
  readonly client: KubeClient;
  readonly namespace: string;
  readonly release: string;
  /** A kubeconfig file of the chart's controller service account. */
  readonly kubeconfigPath: string;
  readonly serviceAccount: KubeConfig;
  /** Removes the cluster-scoped RBAC of the release. */
  cleanUp(): Promise<void>;
}

/** Prepares a namespace and the chart's RBAC; the controller is started by the test. */
export async function prepareControllerTest(): Promise<ControllerTestEnv> {
  await installCrds();
  const admin = adminKubeConfig();
  const namespace = await createTestNamespace(admin, restrictedPodSecurity);
  const release = `pgb-${namespace}`;
  // The cluster-scoped RBAC and the namespaced ServiceAccount of the release.
  await kubectlApply(
    namespace,
    await renderChartObjects('controller-rbac.yaml', { name: release, namespace }),
  );
  const account = { namespace, name: `${release}-controller` };
  const serviceAccount = await serviceAccountKubeConfig(admin, account);
  const asController = await KubeClient.create(connectionOfKubeConfig(serviceAccount));
  // The authorizer reads RBAC through an informer: wait for the grant to land.
  await vi.waitFor(
    () =>
      asController.request({
        verb: 'list',
        path: `/apis/${GROUP}/${VERSION}/namespaces/${namespace}/${BACKUP_POLICY_PLURAL}`,
        what: 'list policies as the controller',
      }),
    { timeout: 30_000, interval: 200 },
  );
  asController.close();
  await kubectlApply(namespace, fixtureYaml<unknown[]>('controller/secrets.yaml'));
  const client = await KubeClient.create(connectionOfKubeConfig(admin));
  return {
    admin,
    client,
    namespace,
    release,
    serviceAccount,
    kubeconfigPath: writeKubeConfigFile(serviceAccount),
    cleanUp: async () => {
      client.close();
      const rbac = admin.makeApiClient(RbacAuthorizationV1Api);
      await rbac.deleteClusterRoleBinding({ name: `${release}-controller` });
      await rbac.deleteClusterRole({ name: `${release}-controller` });
    },
  };
}

/** Flags of a controller that writes and reconciles often enough for a test to watch it. */
export const FAST_RESYNC_ARGS: readonly string[] = [
  '--resync-seconds',
  '2',
  '--runner-image',
  'pgbackup-operator:test',
];

/**
 * Starts a controller process that watches the test's namespace and holds its leader Lease
 * there, as the chart's service account (or through `kubeconfigPath`, e.g. another API server).
 */
export function startController(
  env: ControllerTestEnv,
  args: readonly string[] = [],
  kubeconfigPath: string = env.kubeconfigPath,
): Promise<ControllerProcess> {
  return startControllerProcess(kubeconfigPath, [
    '--namespaces',
    env.namespace,
    '--lease-namespace',
    env.namespace,
    ...args,
  ]);
}

/**
 * A controller for the whole test file: prepared and started before its tests, stopped and
 * cleaned up after them. Its `env` is there once the tests run.
 */
export function useRunningController(args: readonly string[] = []): { env: ControllerTestEnv } {
  const running = {} as { env: ControllerTestEnv; controller?: ControllerProcess };
  beforeAll(async () => {
    running.env = await prepareControllerTest();
    running.controller = await startController(running.env, args);
  });
  afterAll(async () => {
    await running.controller?.stop();
    await running.env?.cleanUp();
  });
  return running;
}

/**
 * Applies the environment's Secrets and `controller/runner-policy.yaml` aimed at the test
 * bucket under a prefix of its own, with `spec` merged into the policy's spec.
 */
export async function applyRunnerPolicy(
  env: ControllerTestEnv,
  spec: Record<string, unknown>,
): Promise<void> {
  const policy = fixtureYaml<KubeObject & { spec: Record<string, Record<string, unknown>> }>(
    'controller/runner-policy.yaml',
  );
  const s3 = {
    bucket: testBucket(),
    prefix: testPrefix(),
    endpoint: requireEnv('PGBACKUP_S3_ENDPOINT'),
    region: requireEnv('AWS_REGION'),
  };
  await kubectlApply(env.namespace, [
    ...environmentSecrets(),
    {
      ...policy,
      spec: {
        ...policy.spec,
        ...spec,
        storage: { s3: { ...(policy.spec.storage?.s3 as object), ...s3 } },
      },
    },
  ]);
}

/** The fixture policy, in a namespace. */
export function ordersPolicy(namespace: string): KubeObject {
  const policy = fixtureYaml<KubeObject>('controller/orders-policy.yaml');
  return { ...policy, apiVersion: API_VERSION, metadata: { ...policy.metadata, namespace } };
}

/** Creates the fixture policy as the admin; returns the object the API server stored. */
export function createOrdersPolicy(env: ControllerTestEnv): Promise<KubeObject> {
  return env.client.request<KubeObject>({
    verb: 'create',
    path: pgbackupPath(env.namespace, BACKUP_POLICY_PLURAL),
    body: ordersPolicy(env.namespace),
    what: 'create policy',
  });
}

/** Creates a Backup of the policy "orders" as the admin. */
export function createBackup(
  env: ControllerTestEnv,
  name: string,
  spec: { type: string; line?: string },
): Promise<KubeObject> {
  return env.client.request<KubeObject>({
    verb: 'create',
    path: pgbackupPath(env.namespace, 'backups'),
    body: {
      apiVersion: API_VERSION,
      kind: 'Backup',
      metadata: { name },
      spec: { policy: 'orders', ...spec },
    },
    what: `create Backup ${name}`,
  });
}

/** Waits until a Job exists and returns it. */
export function waitForJob(env: ControllerTestEnv, name: string): Promise<KubeObject> {
  return vi.waitFor(
    () =>
      env.client.request<KubeObject>({
        verb: 'get',
        path: `/apis/batch/v1/namespaces/${env.namespace}/jobs/${name}`,
        what: `get Job ${name}`,
      }),
    { timeout: 60_000, interval: 250 },
  );
}

/** Path of a pgbackup.dev object or collection. */
export function pgbackupPath(namespace: string, plural: string, name?: string): string {
  const base = `/apis/${GROUP}/${VERSION}/namespaces/${namespace}/${plural}`;
  return name === undefined ? base : `${base}/${name}`;
}

/** Merge-patches an object as the admin. */
export function mergePatch(
  env: ControllerTestEnv,
  path: string,
  body: unknown,
): Promise<KubeObject> {
  return env.client.request<KubeObject>({
    verb: 'patch',
    path,
    body,
    contentType: 'application/merge-patch+json',
    what: `patch ${path}`,
  });
}

/** The CronJobs in the namespace, by name. */
export async function cronJobsIn(env: ControllerTestEnv): Promise<Map<string, KubeObject>> {
  const list = await env.client.request<{ items: KubeObject[] }>({
    verb: 'list',
    path: `/apis/batch/v1/namespaces/${env.namespace}/cronjobs`,
    what: 'list CronJobs',
  });
  return new Map(list.items.map((item) => [item.metadata.name, item]));
}

/** A condition as the tests read it. */
export interface PolicyCondition {
  readonly type: string;
  readonly status?: string;
  readonly reason?: string;
  readonly message?: string;
  readonly observedGeneration?: number;
}

/** A condition of a policy's status. */
export async function policyCondition(
  env: ControllerTestEnv,
  name: string,
  type: string,
): Promise<
  { status?: string; reason?: string; message?: string; observedGeneration?: number } | undefined
> {
  const policy = await env.client.request<KubeObject>({
    verb: 'get',
    path: pgbackupPath(env.namespace, BACKUP_POLICY_PLURAL, name),
    what: 'get policy',
  });
  const status = policy.status as { conditions?: PolicyCondition[] } | undefined;
  return status?.conditions?.find((condition) => condition.type === type);
}
