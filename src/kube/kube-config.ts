/**
 * How the runner and the controller reach the Kubernetes API: in a pod, its service account;
 * elsewhere, KUBECONFIG or ~/.kube/config. The connection feeds `KubeClient`'s plain
 * JSON requests over node:https.
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

function inClusterConnection(env: NodeJS.ProcessEnv): KubeConnection | undefined {
  const host = env.KUBERNETES_SERVICE_HOST;
  const dir = env[SERVICE_ACCOUNT_DIR_ENV] || SERVICE_ACCOUNT_DIR;
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

function readKubeconfig(file: string): Fields {
  try {
    return parse(readFileSync(file, 'utf8')) as Fields;
  } catch (error) {
    throw new KubeConnectionError(
      `cannot read the kubeconfig ${file}: pass --kubeconfig or set KUBECONFIG, or run in a cluster`,
      { cause: error },
    );
  }
}

function kubeconfigConnection(file: string): KubeConnection | 'needs-plugin' {
  const config = readKubeconfig(file);
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
 * The one way every component finds the API server: the kubeconfig file named by
 * `kubeconfigPath` when given; otherwise the service account in a pod (KUBERNETES_SERVICE_HOST
 * and PORT, the token and CA in {@link SERVICE_ACCOUNT_DIR} or the directory named by
 * {@link SERVICE_ACCOUNT_DIR_ENV}); otherwise the first
 * file of KUBECONFIG, or ~/.kube/config.
 */
export async function loadKubeConnection(
  env: NodeJS.ProcessEnv,
  kubeconfigPath?: string,
): Promise<KubeConnection> {
  if (kubeconfigPath === undefined) {
    const inCluster = inClusterConnection(env);
    if (inCluster !== undefined) return inCluster;
  }
  const file =
    kubeconfigPath ?? (env.KUBECONFIG?.split(':')[0] || join(homedir(), '.kube', 'config'));
  const connection = kubeconfigConnection(file);
  return connection === 'needs-plugin' ? pluginConnection(file) : connection;
}
