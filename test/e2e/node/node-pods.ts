/**
 * Pods on the local node as the e2e test reads them: their statuses, their logs through the
 * kubelet (`kubectl logs`), and waiting for them to finish.
 */
import { kubectl } from '../../harness/cluster-objects.js';
import { waitUntil } from '../../harness/env/processes.js';

/** The parts of a Pod the tests read. */
export interface PodObject {
  metadata: { name: string; labels?: Record<string, string> };
  spec: { nodeName?: string; containers: { name: string; image: string }[] };
  status?: {
    phase?: string;
    containerStatuses?: {
      name: string;
      image: string;
      imageID: string;
      ready: boolean;
      state?: { terminated?: { exitCode: number; reason?: string } };
    }[];
  };
}

/** The pods of a namespace matching `selector` (a label selector; empty: all). */
export async function listPods(namespace: string, selector = ''): Promise<PodObject[]> {
  const args = ['get', 'pods', '-n', namespace, '-o', 'json'];
  if (selector !== '') args.push('-l', selector);
  return (JSON.parse(await kubectl(args)) as { items: PodObject[] }).items;
}

/** Waits until the pod has ended (Succeeded or Failed) and returns it. */
export function waitForPodEnd(namespace: string, name: string, timeoutMs = 120_000) {
  return waitUntil(
    `pod ${namespace}/${name} to end`,
    async () => {
      const pod = JSON.parse(
        await kubectl(['get', 'pod', name, '-n', namespace, '-o', 'json']),
      ) as PodObject;
      const phase = pod.status?.phase;
      return phase === 'Succeeded' || phase === 'Failed' ? pod : undefined;
    },
    { timeoutMs, intervalMs: 1_000 },
  );
}

/** `kubectl logs`: the kubelet reads the container's log for the API server. */
export function podLogs(namespace: string, name: string): Promise<string> {
  return kubectl(['logs', '-n', namespace, name]);
}
