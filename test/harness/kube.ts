/**
 * The control plane as tests use it: the admin identity, a fresh namespace per test, real
 * service-account identities (TokenRequest) so RBAC is enforced on what the operator runs
 * as, and the built kubectl.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { requireEnv, uniqueSuffix } from './variables.js';

/** The admin (system:masters) kubeconfig of the environment. */
export function adminKubeConfig(): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(requireEnv('KUBECONFIG'));
  return kc;
}

/** Creates a namespace with a unique name and the given labels; returns its name. */
export async function createTestNamespace(
  kc: KubeConfig,
  labels: Record<string, string> = {},
): Promise<string> {
  const name = `test-${uniqueSuffix()}`;
  await kc.makeApiClient(CoreV1Api).createNamespace({
    body: { metadata: { name, labels: { 'pgbackup.dev/test': 'true', ...labels } } },
  });
  return name;
}

/** The labels that make a namespace enforce the `restricted` Pod Security level. */
export const restrictedPodSecurity: Readonly<Record<string, string>> = {
  'pod-security.kubernetes.io/enforce': 'restricted',
  'pod-security.kubernetes.io/enforce-version': 'latest',
};

/**
 * A kubeconfig that authenticates as a service account, with a token from the TokenRequest
 * API: requests made with it are authorized exactly as the account's RBAC allows.
 */
export async function serviceAccountKubeConfig(
  admin: KubeConfig,
  account: { namespace: string; name: string },
): Promise<KubeConfig> {
  const token = await admin.makeApiClient(CoreV1Api).createNamespacedServiceAccountToken({
    namespace: account.namespace,
    name: account.name,
    body: { spec: { audiences: [], expirationSeconds: 3600 } },
  });
  const cluster = admin.getCurrentCluster();
  if (cluster === null) throw new Error('the admin kubeconfig has no current cluster');
  const user = `system:serviceaccount:${account.namespace}:${account.name}`;
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [cluster],
    users: [{ name: user, token: token.status?.token }],
    contexts: [{ name: 'sa', cluster: cluster.name, user }],
    currentContext: 'sa',
  });
  return kc;
}

/** The result of a kubectl run. */
export interface KubectlResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the environment's kubectl as the admin; never throws on a non-zero exit. */
export function runKubectl(
  args: readonly string[],
  options: { input?: string; kubeconfig?: string } = {},
): Promise<KubectlResult> {
  const kubectl = join(requireEnv('PGBACKUP_KUBE_BIN'), 'kubectl');
  return new Promise((resolvePromise) => {
    const child = execFile(
      kubectl,
      [...args],
      {
        env: { ...process.env, KUBECONFIG: options.kubeconfig ?? requireEnv('KUBECONFIG') },
        maxBuffer: 32 * 1024 * 1024,
      },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : 1;
        resolvePromise({ code, stdout, stderr });
      },
    );
    child.stdin?.end(options.input ?? '');
  });
}

/** The API server's Status for a failed request, from the client's exception. */
export interface ApiFailure {
  readonly code: number;
  readonly reason: string;
  readonly message: string;
}

/** Resolves with the failure of `request`, or throws when it unexpectedly succeeds. */
export async function apiFailure(request: Promise<unknown>): Promise<ApiFailure> {
  const outcome = await request.then(
    () => undefined,
    (error: unknown) => error,
  );
  if (outcome === undefined) throw new Error('the request succeeded but a failure was expected');
  const code =
    typeof outcome === 'object' && outcome !== null && 'code' in outcome ? Number(outcome.code) : 0;
  const body =
    typeof outcome === 'object' && outcome !== null && 'body' in outcome ? outcome.body : undefined;
  const status: { reason?: string; message?: string } =
    typeof body === 'string' && body.startsWith('{') ? JSON.parse(body) : {};
  return { code, reason: status.reason ?? '', message: status.message ?? String(outcome) };
}
