/**
 * The Node the local executor registers, as a kubelet registers its own: Ready, with room
 * for pods, and a heartbeat, so the node lifecycle controller never taints it unreachable
 * and evicts the pods it runs.
 */
import { isConflict, isNotFound, type KubeClient } from '../../../src/kube/index.js';

/** How often the executor reports its Node Ready (the kubelet's default is 10 s). */
const HEARTBEAT_MS = 10_000;

/** The address of the node, and of every pod on it (they are processes of this machine). */
export const EXECUTOR_NODE_IP = '127.0.0.1';

function readyCondition(at: string) {
  return {
    type: 'Ready',
    status: 'True',
    reason: 'KubeletReady',
    message: 'the pgbackup local executor runs pods as local processes',
    lastHeartbeatTime: at,
    lastTransitionTime: at,
  };
}

async function reportReady(client: KubeClient, name: string): Promise<void> {
  await client.request({
    verb: 'patch',
    path: `/api/v1/nodes/${name}/status`,
    contentType: 'application/strategic-merge-patch+json',
    body: {
      status: {
        conditions: [readyCondition(new Date().toISOString())],
        addresses: [{ type: 'InternalIP', address: EXECUTOR_NODE_IP }],
        capacity: { cpu: '2', memory: '4Gi', pods: '110' },
        allocatable: { cpu: '2', memory: '4Gi', pods: '110' },
      },
    },
    what: `report Node ${name} Ready`,
  });
}

/** A registered Node with a running heartbeat. */
export interface ExecutorNode {
  readonly name: string;
  /** Stops the heartbeat and deletes the Node. */
  remove(): Promise<void>;
}

/** Creates (or adopts) the Node and keeps it Ready until removed. */
export async function registerExecutorNode(
  client: KubeClient,
  node: {
    name: string;
    labels: Readonly<Record<string, string>>;
    onProblem(message: string): void;
  },
): Promise<ExecutorNode> {
  const { name, labels } = node;
  await client
    .request({
      verb: 'create',
      path: '/api/v1/nodes',
      // Unschedulable: the executor binds its pods itself, and kube-scheduler (running while
      // a real node is up, test/harness/node/) must not put other namespaces' pods here.
      body: {
        apiVersion: 'v1',
        kind: 'Node',
        metadata: { name, labels },
        spec: { unschedulable: true },
      },
      what: `register Node ${name}`,
    })
    .catch((error: unknown) => {
      // A Node left by an executor that died is taken over.
      if (!isConflict(error)) throw error;
    });
  await reportReady(client, name);
  // A missed heartbeat is recorded and retried with the next one: the node lifecycle
  // controller marks a node NotReady only after 40 s without one.
  const heartbeat = setInterval(() => {
    reportReady(client, name).catch((error: unknown) =>
      node.onProblem(`heartbeat of Node ${name}: ${String(error)}`),
    );
  }, HEARTBEAT_MS);
  return {
    name,
    remove: async () => {
      clearInterval(heartbeat);
      await client
        .request({ verb: 'delete', path: `/api/v1/nodes/${name}`, what: `delete Node ${name}` })
        .catch((error: unknown) => {
          if (!isNotFound(error)) throw error;
        });
    },
  };
}
