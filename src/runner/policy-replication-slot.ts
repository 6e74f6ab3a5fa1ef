/**
 * The replication slot a binary run holds on the primary while it streams (named per policy by
 * `replicationSlotNameOf`), looked at and dropped from outside a run: the controller uses this
 * for a slot a killed run left behind. It reaches the primary as a run does: the policy's
 * target pods (or hosts) and its credentials Secret, read with the caller's client.
 */
import type { BackupPolicy } from '../api/index.js';
import type { KubeClient } from '../kube/kube-client.js';
import {
  discoverPrimary,
  dropReplicationSlot,
  findReplicationSlot,
  NoServerError,
  type Primary,
  type ReplicationSlotState,
  replicationSlotNameOf,
} from '../postgres/index.js';
import { listTargetEndpoints, readCredentials } from './cluster-sources.js';

/** How long the controller waits for a server to answer, so one dead pod never stalls it. */
const CONNECT_TIMEOUT_MS = 10_000;

async function withPrimary<T>(
  client: KubeClient,
  policy: BackupPolicy,
  use: (primary: Primary, name: string) => Promise<T>,
): Promise<T> {
  const namespace = policy.metadata.namespace ?? '';
  const credentials = await readCredentials(
    client,
    namespace,
    policy.spec.target.credentials.secretName,
  );
  const { endpoints, selection } = await listTargetEndpoints(client, policy);
  if (endpoints.length === 0) {
    throw new NoServerError(`no server to look for the replication slot on: ${selection}`);
  }
  const primary = await discoverPrimary({
    endpoints,
    credentials,
    selection,
    timeoutMs: CONNECT_TIMEOUT_MS,
  });
  try {
    return await use(primary, replicationSlotNameOf(namespace, policy.metadata.name ?? ''));
  } finally {
    await primary.client.end().catch(() => undefined);
  }
}

/**
 * The controller's `PolicySlotAccess`, through a Kubernetes client that may read the policy's
 * Secret and pods: `find` returns the policy's slot on its primary, if any; `drop` drops it if
 * there is one and returns it as it was.
 */
export function createPolicySlotAccess(client: KubeClient): {
  find(policy: BackupPolicy): Promise<ReplicationSlotState | undefined>;
  drop(policy: BackupPolicy): Promise<ReplicationSlotState | undefined>;
} {
  return {
    find: (policy) =>
      withPrimary(client, policy, (primary, name) => findReplicationSlot(primary.client, name)),
    drop: (policy) =>
      withPrimary(client, policy, async (primary, name) => {
        const slot = await findReplicationSlot(primary.client, name);
        if (slot === undefined) return undefined;
        // A slot in use (a walsender streams from it) is another process's: an error, not a drop.
        await dropReplicationSlot(primary.client, name);
        return slot;
      }),
  };
}
