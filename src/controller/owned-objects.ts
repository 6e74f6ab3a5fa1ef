/**
 * Applying what a policy wants and deleting what it no longer wants, writing only what
 * differs from the informers' caches.
 */
import {
  applyManifest,
  controllerUidOf,
  deleteObject,
  type KubeClient,
  type KubeObject,
  type ObjectCache,
} from '../kube/index.js';
import type { Manifest } from '../render/index.js';
import { isUpToDate, withAppliedHash } from './object-comparison.js';

/** What a pass over the owned objects changed, for an Event. */
export interface OwnedChanges {
  readonly applied: string[];
  readonly deleted: string[];
}

/** Applies each manifest whose object is missing or differs; returns `Kind/name` of each. */
export async function applyChanged(
  client: KubeClient,
  manifests: readonly Manifest[],
  cacheOf: (kind: string) => ObjectCache,
): Promise<string[]> {
  const outdated = manifests
    .map((manifest) => withAppliedHash(manifest))
    .filter((desired) => {
      const { namespace, name } = desired.metadata;
      return !isUpToDate(desired, cacheOf(desired.kind).get(`${namespace}/${name}`));
    });
  // Independent objects: applied together, the reconcile waits one round trip, not six.
  await Promise.all(outdated.map((desired) => applyManifest(client, desired)));
  return outdated.map((desired) => `${desired.kind}/${desired.metadata.name}`);
}

/** Deletes the CronJobs a policy (by uid) controls that are not among `wanted` names. */
export async function deleteUnwanted(
  client: KubeClient,
  cronJobs: ObjectCache,
  owner: { namespace: string; uid: string; wanted: ReadonlySet<string> },
): Promise<string[]> {
  const unwanted = cronJobs
    .list()
    .filter((cronJob: KubeObject) => cronJob.metadata.namespace === owner.namespace)
    .filter((cronJob) => controllerUidOf(cronJob, 'BackupPolicy') === owner.uid)
    .filter((cronJob) => !owner.wanted.has(cronJob.metadata.name));
  for (const cronJob of unwanted) {
    await deleteObject(client, {
      apiVersion: 'batch/v1',
      kind: 'CronJob',
      metadata: {
        name: cronJob.metadata.name,
        namespace: owner.namespace,
        ...(cronJob.metadata.uid !== undefined ? { uid: cronJob.metadata.uid } : {}),
      },
    });
  }
  return unwanted.map((cronJob) => `CronJob/${cronJob.metadata.name}`);
}
