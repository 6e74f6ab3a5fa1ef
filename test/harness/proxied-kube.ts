/**
 * A service-account identity that reaches the real API server through an HTTP fault proxy
 * (test/harness/http-fault-proxy.ts), so a test can make the API server answer 429 or 503,
 * hold a request unanswered, or break a connection, for exactly the requests it chooses.
 *
 * The identity is a bearer token (TokenRequest) because the proxy ends TLS: a client
 * certificate would stop at the proxy, a token travels on in the Authorization header.
 */
import {
  CoreV1Api,
  KubeConfig,
  RbacAuthorizationV1Api,
  type V1PolicyRule,
} from '@kubernetes/client-node';
import { vi } from 'vitest';
import {
  connectionOfKubeConfig,
  KubeClient,
  type KubeClientOptions,
} from '../../src/kube/index.js';
import { type HttpFaultProxy, startHttpFaultProxy } from './http-fault-proxy.js';
import { adminKubeConfig, createTestNamespace, serviceAccountKubeConfig } from './kube.js';

/** A namespace, a proxy in front of the API server, and a token that may use `rules` there. */
export interface ProxiedKube {
  readonly namespace: string;
  readonly proxy: HttpFaultProxy;
  /** The admin's client, straight to the API server (no proxy). */
  readonly admin: KubeClient;
  /** A client of the test's identity through the proxy. */
  client(options?: KubeClientOptions): Promise<KubeClient>;
  /** A client of the test's identity straight to the API server. */
  directClient(options?: KubeClientOptions): Promise<KubeClient>;
  close(): Promise<void>;
}

/** Prepares a fresh namespace whose service account `tester` may do what `rules` say. */
export async function startProxiedKube(rules: readonly V1PolicyRule[]): Promise<ProxiedKube> {
  const adminConfig = adminKubeConfig();
  const namespace = await createTestNamespace(adminConfig);
  const name = 'tester';
  await adminConfig
    .makeApiClient(CoreV1Api)
    .createNamespacedServiceAccount({ namespace, body: { metadata: { name } } });
  const rbac = adminConfig.makeApiClient(RbacAuthorizationV1Api);
  await rbac.createNamespacedRole({ namespace, body: { metadata: { name }, rules: [...rules] } });
  await rbac.createNamespacedRoleBinding({
    namespace,
    body: {
      metadata: { name },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name },
      subjects: [{ kind: 'ServiceAccount', name, namespace }],
    },
  });
  const direct = await serviceAccountKubeConfig(adminConfig, { namespace, name });
  const upstream = direct.getCurrentCluster()?.server;
  if (upstream === undefined) throw new Error('the admin kubeconfig names no API server');
  const proxy = await startHttpFaultProxy({ upstream, tls: true });
  const proxied = new KubeConfig();
  proxied.loadFromOptions({
    clusters: [{ name: 'proxy', server: proxy.url, skipTLSVerify: true }],
    users: [{ name, token: direct.getCurrentUser()?.token }],
    contexts: [{ name: 'proxy', cluster: 'proxy', user: name }],
    currentContext: 'proxy',
  });
  const admin = await KubeClient.create(connectionOfKubeConfig(adminConfig));
  const clients: KubeClient[] = [admin];
  const track = async (config: KubeConfig, options?: KubeClientOptions) => {
    const client = await KubeClient.create(connectionOfKubeConfig(config), options);
    clients.push(client);
    return client;
  };
  // The authorizer reads RBAC through an informer: wait until the grant has landed, by
  // listing the first resource granted (a v1 resource, as every test here uses).
  const group = rules[0]?.apiGroups?.[0] ?? '';
  const resource = rules[0]?.resources?.[0] ?? 'configmaps';
  const probe = await track(direct, { retry: { ...NO_RETRY } });
  await vi.waitFor(
    () =>
      probe.request({
        verb: 'list',
        path: `${group === '' ? '/api/v1' : `/apis/${group}/v1`}/namespaces/${namespace}/${resource}`,
        what: `list ${resource} as the tester`,
      }),
    { timeout: 30_000, interval: 200 },
  );
  return {
    namespace,
    proxy,
    admin,
    client: (options) => track(proxied, options),
    directClient: (options) => track(direct, options),
    close: async () => {
      for (const client of clients) client.close();
      await proxy.close();
    },
  };
}

/** A retry policy of one attempt: what the client did before it retried anything. */
export const NO_RETRY = {
  maxAttempts: 1,
  backoff: { baseMs: 1, maxMs: 1 },
  deadlineMs: 30_000,
} as const;
