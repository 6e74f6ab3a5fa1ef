/**
 * How the runner reaches the Kubernetes API: in a pod, its service account; elsewhere,
 * KUBECONFIG or ~/.kube/config. Requests are plain JSON over the client's TLS and
 * credentials, so objects (and Lease times) travel exactly as the API server writes them.
 */
import { request } from 'node:https';
import { KubeConfig } from '@kubernetes/client-node';

/** A failed API request, with the API server's status code and reason. */
export class KubeRequestError extends Error {
  override readonly name = 'KubeRequestError';

  constructor(
    message: string,
    readonly status: number,
    readonly reason: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** Loads the service account's config in a pod, the default kubeconfig elsewhere. */
export function loadKubeConfig(): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromDefault();
  return kc;
}

/** JSON requests to the API server. */
export interface KubeJsonClient {
  /** Sends a request; resolves with the parsed body, or rejects with a {@link KubeRequestError}. */
  request<T>(method: string, path: string, body?: unknown, contentType?: string): Promise<T>;
}

function statusOf(text: string): { reason: string; message: string } {
  try {
    const parsed = JSON.parse(text) as { reason?: string; message?: string };
    return { reason: parsed.reason ?? '', message: parsed.message ?? text };
  } catch {
    return { reason: '', message: text };
  }
}

/** A JSON client over a kubeconfig's current context. */
export function createKubeJsonClient(kc: KubeConfig): KubeJsonClient {
  return {
    async request<T>(
      method: string,
      path: string,
      body?: unknown,
      contentType = 'application/json',
    ) {
      const cluster = kc.getCurrentCluster();
      if (cluster === null) {
        throw new KubeRequestError('the kubeconfig has no current cluster', 0, 'NoCluster');
      }
      const options = {
        method,
        headers: { Accept: 'application/json', 'Content-Type': contentType },
      };
      await kc.applyToHTTPSOptions(options);
      const url = new URL(path, cluster.server);
      return new Promise<T>((resolve, reject) => {
        const outgoing = request(url, options, (response) => {
          let text = '';
          response.setEncoding('utf8');
          response.on('data', (chunk: string) => {
            text += chunk;
          });
          response.on('end', () => {
            const status = response.statusCode ?? 0;
            if (status < 400) {
              resolve((text === '' ? {} : JSON.parse(text)) as T);
              return;
            }
            const { reason, message } = statusOf(text);
            reject(new KubeRequestError(`${method} ${path}: ${message}`, status, reason));
          });
        });
        outgoing.on('error', (error) =>
          reject(
            new KubeRequestError(`${method} ${path}: ${error.message}`, 0, 'Unreachable', {
              cause: error,
            }),
          ),
        );
        outgoing.end(body === undefined ? undefined : JSON.stringify(body));
      });
    },
  };
}
