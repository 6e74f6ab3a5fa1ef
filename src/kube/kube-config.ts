/**
 * How the runner and the controller reach the Kubernetes API: one lookup order for both (see
 * {@link loadKubeConnection}). The connection feeds `KubeClient`'s plain JSON requests over
 * node:https.
 *
 * The common cases (a service account; a kubeconfig with a token or a client certificate) are
 * read here directly: loading `@kubernetes/client-node` costs about 70 MiB of memory. Only a
 * kubeconfig whose user needs an exec or auth-provider plugin loads it.
 */
import { existsSync, readFileSync } from 'node:fs';
import type { RequestOptions } from 'node:https';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join } from 'node:path';
import { parse } from 'yaml';
import { KubeConnectionError } from './kube-errors.js';

/** Where the API server is and how to authenticate to it. */
export interface KubeConnection {
  readonly server: string;
  /** Adds TLS settings and credentials to a request's options. */
  apply(options: RequestOptions): Promise<void>;
}

/** Where the kubelet mounts a pod's service-account token, CA and namespace. */
export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

/**
 * Names another directory holding `token` and `ca.crt`, for a process that runs a pod's
 * command outside a container (the test suite's local executor, which plays the kubelet).
 * Unset in a pod, where the kubelet's mount is used.
 */
export const SERVICE_ACCOUNT_DIR_ENV = 'PGBACKUP_SERVICE_ACCOUNT_DIR';

function serviceAccountDirOf(env: NodeJS.ProcessEnv): string {
  return env[SERVICE_ACCOUNT_DIR_ENV] || SERVICE_ACCOUNT_DIR;
}

function inClusterConnection(env: NodeJS.ProcessEnv): KubeConnection | undefined {
  const host = env.KUBERNETES_SERVICE_HOST;
  const dir = serviceAccountDirOf(env);
  const tokenFile = join(dir, 'token');
  if (host === undefined || !existsSync(tokenFile)) return undefined;
  const hostPart = host.includes(':') ? `[${host}]` : host;
  const ca = readFileSync(join(dir, 'ca.crt'));
  return {
    server: `https://${hostPart}:${env.KUBERNETES_SERVICE_PORT ?? '443'}`,
    apply: async (options) => {
      // Re-read on every request: the kubelet rotates projected tokens.
      const token = readFileSync(tokenFile, 'utf8').trim();
      options.ca = ca;
      options.headers = { ...options.headers, Authorization: `Bearer ${token}` };
    },
  };
}

type Fields = Record<string, unknown>;

/** The `key` object of the entry called `name` in a kubeconfig list (clusters, users, …). */
function entryOf(list: unknown, key: string, name: unknown): Fields | undefined {
  const entries = Array.isArray(list) ? (list as Fields[]) : [];
  const entry = entries.find((candidate) => candidate.name === name);
  const value = entry?.[key];
  return typeof value === 'object' && value !== null ? (value as Fields) : undefined;
}

function material(fields: Fields, key: string, base: string): Buffer | undefined {
  const data = fields[`${key}-data`];
  if (typeof data === 'string') return Buffer.from(data, 'base64');
  const file = fields[key];
  if (typeof file !== 'string') return undefined;
  return readFileSync(isAbsolute(file) ? file : join(base, file));
}

/** Which step of the lookup order named a kubeconfig file, for the error that says how to fix it. */
type KubeconfigSource =
  | { readonly kind: 'named' }
  | { readonly kind: 'KUBECONFIG' }
  | { readonly kind: 'default'; readonly serviceAccountDir: string };

function reasonOf(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EACCES') return 'permission denied';
  return error instanceof Error ? (error.message.split('\n')[0] ?? '') : String(error);
}

/**
 * What to do about an unreadable kubeconfig, naming only what the command accepts (`flag`, its
 * kubeconfig option, if it has one).
 */
function adviceFor(source: KubeconfigSource, flag: string | undefined): string {
  switch (source.kind) {
    case 'named':
      return flag === undefined ? '' : `; give ${flag} a readable kubeconfig file`;
    case 'KUBECONFIG':
      return `; it was named by KUBECONFIG: fix or unset KUBECONFIG${flag === undefined ? '' : `, or pass ${flag}`}`;
    case 'default':
      return (
        `; no kubeconfig was named and this is not a pod with a service account ` +
        `(KUBERNETES_SERVICE_HOST and ${join(source.serviceAccountDir, 'token')}): ` +
        `${flag === undefined ? '' : `pass ${flag}, `}set KUBECONFIG, or run in a cluster`
      );
  }
}

/** Reads a kubeconfig; `advice` (from {@link adviceFor}) ends the message of a failure. */
function readKubeconfig(file: string, advice: string): Fields {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new KubeConnectionError(
      `cannot read the kubeconfig ${file} (${reasonOf(error)})${advice}`,
      { cause: error },
    );
  }
  try {
    // An empty file parses to null: treat it as a kubeconfig with nothing in it.
    return (parse(text) ?? {}) as Fields;
  } catch (error) {
    throw new KubeConnectionError(
      `the kubeconfig ${file} is not valid YAML (${reasonOf(error)})${advice}`,
      { cause: error },
    );
  }
}

function kubeconfigConnection(file: string, advice: string): KubeConnection | 'needs-plugin' {
  const config = readKubeconfig(file, advice);
  const contextName = config['current-context'];
  const context = entryOf(config.contexts, 'context', contextName);
  const cluster = entryOf(config.clusters, 'cluster', context?.cluster);
  const user = entryOf(config.users, 'user', context?.user) ?? {};
  if (cluster === undefined || typeof cluster.server !== 'string') {
    throw new KubeConnectionError(`${file} has no cluster for its current context`);
  }
  if (user.exec !== undefined || user['auth-provider'] !== undefined) return 'needs-plugin';
  const base = dirname(file);
  const ca = material(cluster, 'certificate-authority', base);
  const cert = material(user, 'client-certificate', base);
  const key = material(user, 'client-key', base);
  const tokenFile = typeof user.tokenFile === 'string' ? user.tokenFile : undefined;
  const insecure = cluster['insecure-skip-tls-verify'] === true;
  return {
    server: cluster.server,
    apply: async (options) => {
      if (ca !== undefined) options.ca = ca;
      if (cert !== undefined) options.cert = cert;
      if (key !== undefined) options.key = key;
      if (insecure) options.rejectUnauthorized = false;
      const token =
        typeof user.token === 'string'
          ? user.token
          : tokenFile === undefined
            ? undefined
            : readFileSync(tokenFile, 'utf8').trim();
      if (token !== undefined) {
        options.headers = { ...options.headers, Authorization: `Bearer ${token}` };
      }
    },
  };
}

/** What {@link connectionOfKubeConfig} needs of `@kubernetes/client-node`'s KubeConfig. */
export interface KubeConfigLike {
  getCurrentCluster(): { readonly server: string } | null;
  applyToHTTPSOptions(options: RequestOptions): Promise<void>;
}

/** A connection from a loaded client-node KubeConfig (plugins, tests that already hold one). */
export function connectionOfKubeConfig(kc: KubeConfigLike): KubeConnection {
  const cluster = kc.getCurrentCluster();
  if (cluster === null) {
    throw new KubeConnectionError('the kubeconfig has no current cluster');
  }
  return { server: cluster.server, apply: (options) => kc.applyToHTTPSOptions(options) };
}

async function pluginConnection(file: string): Promise<KubeConnection> {
  const { KubeConfig } = await import('@kubernetes/client-node');
  const kc = new KubeConfig();
  kc.loadFromFile(file);
  return connectionOfKubeConfig(kc);
}

/**
 * The one way every component finds the API server. The first of these wins (the order of
 * controller-runtime's GetConfig, so a kubeconfig someone names always beats the pod's own
 * account):
 * 1. `kubeconfigPath`: the file the command's `flag` names (the controller's `--kubeconfig`),
 *    or a file the caller chose itself;
 * 2. the first file of KUBECONFIG;
 * 3. in a pod, its service account: KUBERNETES_SERVICE_HOST and PORT, the token and CA in
 *    {@link SERVICE_ACCOUNT_DIR} or the directory named by {@link SERVICE_ACCOUNT_DIR_ENV};
 * 4. ~/.kube/config (HOME from `env`).
 * A file named by 1 or 2 that cannot be read is an error, not a reason to try the next step.
 * `flag` is the option through which the command accepts a kubeconfig, if it has one (`pgbackup
 * run` has none): the errors suggest it only when it exists.
 */
export async function loadKubeConnection(
  env: NodeJS.ProcessEnv,
  kubeconfigPath?: string,
  flag?: string,
): Promise<KubeConnection> {
  const fromEnv = env.KUBECONFIG?.split(':').find((entry) => entry !== '');
  let file: string;
  let source: KubeconfigSource;
  if (kubeconfigPath !== undefined) {
    file = kubeconfigPath;
    source = { kind: 'named' };
  } else if (fromEnv !== undefined) {
    file = fromEnv;
    source = { kind: 'KUBECONFIG' };
  } else {
    const inCluster = inClusterConnection(env);
    if (inCluster !== undefined) return inCluster;
    file = join(env.HOME || homedir(), '.kube', 'config');
    source = { kind: 'default', serviceAccountDir: serviceAccountDirOf(env) };
  }
  const connection = kubeconfigConnection(file, adviceFor(source, flag));
  return connection === 'needs-plugin' ? pluginConnection(file) : connection;
}
