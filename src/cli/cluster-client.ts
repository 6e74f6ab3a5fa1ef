/** The API client of a command run against the cluster (`--policy NS/NAME`). */
import { KubeClient } from '../kube/kube-client.js';
import { loadKubeConnection } from '../kube/kube-config.js';

/** Runs `body` with a client from the process's kubeconfig lookup, closed when it ends. */
export async function withClusterClient<T>(body: (client: KubeClient) => Promise<T>): Promise<T> {
  const client = await KubeClient.create(await loadKubeConnection(process.env));
  try {
    return await body(client);
  } finally {
    client.close();
  }
}
