/**
 * Credentials for the controller without `@kubernetes/client-node`'s KubeConfig, whose
 * import alone costs about 75 MiB of memory (it loads the whole generated API). Reads a
 * kubeconfig file (certificates and keys inline or as files, a token or token file) or
 * the in-cluster service account; exec and auth-provider plugins are not supported.
 */
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';
import { parse } from 'yaml';

/** What the client needs of a kubeconfig: the server, and TLS options and headers. */
export interface KubeCredentials {
  getCurrentCluster(): { readonly server: string } | null;
  applyToHTTPSOptions(options: {
    ca?: unknown;
    cert?: unknown;
    key?: unknown;
    rejectUnauthorized?: boolean;
    headers?: unknown;
  }): Promise<void>;
}

/** The kubeconfig could not be read or does not say how to reach a cluster. */
export class KubeconfigError extends Error {
  override readonly name = 'KubeconfigError';
}

interface Named<T> {
  readonly name: string;
  readonly [key: string]: T | string;
}

type Fields = Readonly<Record<string, string | boolean | undefined>>;

const IN_CLUSTER_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

class FileCredentials implements KubeCredentials {
  readonly #server: string;
  readonly #tls: { ca?: Buffer; cert?: Buffer; key?: Buffer; insecure: boolean };
  readonly #token: () => string | undefined;

  constructor(
    server: string,
    tls: { ca?: Buffer; cert?: Buffer; key?: Buffer; insecure: boolean },
    token: () => string | undefined,
  ) {
    this.#server = server;
    this.#tls = tls;
    this.#token = token;
  }

  getCurrentCluster() {
    return { server: this.#server };
  }

  async applyToHTTPSOptions(options: Parameters<KubeCredentials['applyToHTTPSOptions']>[0]) {
    if (this.#tls.ca !== undefined) options.ca = this.#tls.ca;
    if (this.#tls.cert !== undefined) options.cert = this.#tls.cert;
    if (this.#tls.key !== undefined) options.key = this.#tls.key;
    if (this.#tls.insecure) options.rejectUnauthorized = false;
    // Read per request: a projected service-account token is rotated on disk.
    const token = this.#token();
    if (token !== undefined) {
      options.headers = { ...(options.headers as object), authorization: `Bearer ${token}` };
    }
  }
}

function readBytes(fields: Fields, key: string, base: string): Buffer | undefined {
  const data = fields[`${key}-data`];
  if (typeof data === 'string') return Buffer.from(data, 'base64');
  const file = fields[key];
  if (typeof file !== 'string') return undefined;
  return readFileSync(isAbsolute(file) ? file : join(base, file));
}

function entry(list: unknown, name: string, field: string, what: string): Fields {
  const found = (list as Named<Fields>[] | undefined)?.find((item) => item.name === name);
  const value = found?.[field];
  if (typeof value !== 'object')
    throw new KubeconfigError(`${what} "${name}" is not in the kubeconfig`);
  return value;
}

/** Credentials of the current context of a kubeconfig file. */
export function loadKubeconfigFile(path: string): KubeCredentials {
  let config: Record<string, unknown>;
  try {
    config = parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  } catch (error) {
    throw new KubeconfigError(
      `cannot read the kubeconfig ${path}; pass --kubeconfig or run in a cluster`,
      { cause: error },
    );
  }
  const base = dirname(path);
  const contextName = String(config['current-context'] ?? '');
  const context = entry(config.contexts, contextName, 'context', 'context');
  const cluster = entry(config.clusters, String(context.cluster), 'cluster', 'cluster');
  const user = entry(config.users, String(context.user), 'user', 'user');
  const token = typeof user.token === 'string' ? user.token : undefined;
  const tokenFile = typeof user.tokenFile === 'string' ? user.tokenFile : undefined;
  return new FileCredentials(
    String(cluster.server),
    {
      ca: readBytes(cluster, 'certificate-authority', base),
      cert: readBytes(user, 'client-certificate', base),
      key: readBytes(user, 'client-key', base),
      insecure: cluster['insecure-skip-tls-verify'] === true,
    },
    () => token ?? (tokenFile === undefined ? undefined : readFileSync(tokenFile, 'utf8').trim()),
  );
}

/** Credentials of the pod's service account, as every in-cluster client uses them. */
export function loadInClusterCredentials(
  environment: Readonly<Record<string, string | undefined>>,
): KubeCredentials {
  const host = environment.KUBERNETES_SERVICE_HOST;
  const port = environment.KUBERNETES_SERVICE_PORT ?? '443';
  if (host === undefined) {
    throw new KubeconfigError(
      'not in a cluster (KUBERNETES_SERVICE_HOST is unset) and no kubeconfig given; pass --kubeconfig',
    );
  }
  const server = host.includes(':') ? `https://[${host}]:${port}` : `https://${host}:${port}`;
  return new FileCredentials(
    server,
    { ca: readFileSync(join(IN_CLUSTER_DIR, 'ca.crt')), insecure: false },
    () => readFileSync(join(IN_CLUSTER_DIR, 'token'), 'utf8').trim(),
  );
}
