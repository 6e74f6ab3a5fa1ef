/**
 * The replication slots of a policy on its primary, looked at and dropped from outside a run:
 * the one a binary run holds while it streams (`replicationSlotNameOf`), which the controller
 * drops when a killed run left it behind, and the WAL receiver's permanent one
 * (`walSlotNameOf`), which the controller drops once the receiver is stopped for good. It reaches the primary as a run does: the policy's
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
  walSlotNameOf,
} from '../postgres/index.js';
import { listTargetEndpoints, readCredentials } from './cluster-sources.js';

/** Which of a policy's slots: the binary runs' or the WAL receiver's. */
export type PolicySlotKind = 'binary' | 'wal';

/** The name of a policy's slot of a kind. */
export function policySlotNameOf(namespace: string, policy: string, kind: PolicySlotKind): string {
  return kind === 'wal'
    ? walSlotNameOf(namespace, policy)
    : replicationSlotNameOf(namespace, policy);
}

/** How long the controller waits for a server to answer, so one dead pod never stalls it. */
const CONNECT_TIMEOUT_MS = 10_000;

async function withPrimary<T>(
  client: KubeClient,
  policy: BackupPolicy,
  kind: PolicySlotKind,
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
    return await use(primary, policySlotNameOf(namespace, policy.metadata.name ?? '', kind));
  } finally {
    await primary.client.end().catch(() => undefined);
  }
}

/**
 * The controller's `PolicySlotAccess`, through a Kubernetes client that may read the policy's
 * Secret and pods: `find` returns the policy's slot of a kind on its primary, if any; `drop`
 * drops it if there is one and returns it as it was.
 */
export function createPolicySlotAccess(client: KubeClient): {
  find(policy: BackupPolicy, kind: PolicySlotKind): Promise<ReplicationSlotState | undefined>;
  drop(policy: BackupPolicy, kind: PolicySlotKind): Promise<ReplicationSlotState | undefined>;
} {
  return {
    find: (policy, kind) =>
      withPrimary(client, policy, kind, (primary, name) =>
        findReplicationSlot(primary.client, name),
      ),
    drop: (policy, kind) =>
      withPrimary(client, policy, kind, async (primary, name) => {
        const slot = await findReplicationSlot(primary.client, name);
        if (slot === undefined) return undefined;
        // A slot in use (a walsender streams from it) is another process's: an error, not a drop.
        await dropReplicationSlot(primary.client, name);
        return slot;
      }),
  };
}
