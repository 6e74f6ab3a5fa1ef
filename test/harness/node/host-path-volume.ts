/**
 * A PersistentVolume for one claim on the local node: a directory under the node's state,
 * owned by the runner's user (a hostPath volume ignores the pod's fsGroup, which a real
 * provisioner would apply), pre-bound to the claim by its claimRef so no provisioner is needed.
 */
import { chown, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { RUNNER_UID } from '../../../src/render/runner-pod.js';
import type { LocalNode } from './local-node.js';

/** The storage class the volumes and the claims they serve name (no StorageClass object exists). */
export const HOST_PATH_STORAGE_CLASS = 'pgbackup-host-path';

/** The claim a volume is made for. */
export interface ClaimReference {
  readonly namespace: string;
  readonly name: string;
  /** Its requested size, e.g. `1Gi`: the volume's capacity. */
  readonly size: string;
}

/**
 * Creates the directory and returns the PersistentVolume (cluster-scoped, named after the
 * claim) to apply; its reclaim policy is Retain, so the test deletes it.
 */
export async function hostPathVolumeFor(node: LocalNode, claim: ClaimReference) {
  const name = `${claim.namespace}-${claim.name}`;
  const path = join(node.layout.dir, 'volumes', name);
  await mkdir(path, { recursive: true, mode: 0o700 });
  await chown(path, RUNNER_UID, RUNNER_UID);
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolume',
    metadata: { name },
    spec: {
      capacity: { storage: claim.size },
      accessModes: ['ReadWriteOnce'],
      persistentVolumeReclaimPolicy: 'Retain',
      storageClassName: HOST_PATH_STORAGE_CLASS,
      claimRef: {
        apiVersion: 'v1',
        kind: 'PersistentVolumeClaim',
        namespace: claim.namespace,
        name: claim.name,
      },
      hostPath: { path, type: 'Directory' },
    },
  };
}
