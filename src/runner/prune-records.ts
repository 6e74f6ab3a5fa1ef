/**
 * The bucket is the catalog (DESIGN.md §3); `Backup` objects follow it. After a run commits and
 * rotates, the Backups of the policy and type whose backup the bucket no longer holds (pruned
 * now, or by an earlier run killed before it could say so, or deleted with the CLI) are
 * deleted, so `kubectl get backups` lists what `pgbackup list` lists. A backup pruned from the
 * local copy only keeps its Backup, without the local location.
 */
import type { Logger } from 'pino';
import type { Backup, BackupPolicySpec, BackupType } from '../api/index.js';
import type { KubeClient } from '../kube/kube-client.js';
import { isNotFound } from '../kube/kube-errors.js';
import { RESOURCES, resourcePath } from '../kube/resource.js';
import { LABELS, policyLabels } from '../render/index.js';
import { type ArtifactStore, policyKeyPrefix } from '../storage/index.js';

/** What {@link forgetPrunedRecords} needs. */
export interface PrunedRecordsInput {
  readonly client: KubeClient;
  readonly namespace: string;
  readonly policy: string;
  readonly type: BackupType;
  /** The bucket the policy writes to: Backups recording another bucket are left alone. */
  readonly bucket: string;
  /** The policy's key prefix for the type (`policyKeyPrefix`), which the catalog lists. */
  readonly prefix: string;
  readonly remote: ArtifactStore;
  /** The keys the run's rotation deleted, from the bucket or the local copy. */
  readonly pruned: readonly string[];
  readonly logger: Logger;
}

/** What {@link forgetPrunedRecords} changed, by Backup name. */
export interface ForgottenRecords {
  readonly deleted: readonly string[];
  readonly localCopyRemoved: readonly string[];
}

type BackupItem = Backup & { readonly metadata: { readonly uid?: string } };

async function listRecords(input: PrunedRecordsInput): Promise<BackupItem[]> {
  const { namespace } = input;
  const selector = `${LABELS.policy}=${policyLabels(input.policy)[LABELS.policy]},${LABELS.type}=${input.type}`;
  const list = await input.client.request<{ items: BackupItem[] }>({
    verb: 'list',
    path: resourcePath(RESOURCES.backup, { namespace }),
    query: { labelSelector: selector },
    what: `list the Backups of BackupPolicy ${namespace}/${input.policy} ("${selector}")`,
  });
  // The label's value is cut for long policy names: the spec says whose a Backup is.
  return list.items.filter(
    (item) => item.spec.policy === input.policy && item.spec.type === input.type,
  );
}

async function deleteRecord(input: PrunedRecordsInput, item: BackupItem): Promise<void> {
  const { namespace } = input;
  const name = item.metadata.name ?? '';
  try {
    await input.client.request({
      verb: 'delete',
      path: resourcePath(RESOURCES.backup, { namespace, name }),
      // The uid precondition spares a new Backup that took the name meanwhile.
      body: item.metadata.uid === undefined ? {} : { preconditions: { uid: item.metadata.uid } },
      what: `delete Backup ${namespace}/${name}, whose backup is no longer in the bucket`,
    });
  } catch (error) {
    if (!isNotFound(error)) throw error;
  }
}

async function removeLocalCopy(input: PrunedRecordsInput, item: BackupItem): Promise<void> {
  const { namespace } = input;
  const name = item.metadata.name ?? '';
  await input.client.request({
    verb: 'patch',
    path: resourcePath(RESOURCES.backup, { namespace, name, subresource: 'status' }),
    body: { status: { artifact: { localClaimName: null, localPath: null } } },
    contentType: 'application/merge-patch+json',
    what: `remove the pruned local copy from Backup ${namespace}/${name}`,
  });
}

/**
 * Deletes the Completed Backups of the policy and type whose backup is not in the bucket's
 * catalog any more, and removes the local location of those whose local copy was pruned.
 *
 * @throws KubeApiError or StorageError; the caller logs it (the backup is committed already)
 */
export async function forgetPrunedRecords(input: PrunedRecordsInput): Promise<ForgottenRecords> {
  const catalog = new Set((await input.remote.listBackups(input.prefix)).map((entry) => entry.key));
  const pruned = new Set(input.pruned);
  const deleted: string[] = [];
  const localCopyRemoved: string[] = [];
  for (const item of await listRecords(input)) {
    const artifact = item.status?.artifact;
    if (item.status?.phase !== 'Completed' || artifact === undefined) continue;
    if (artifact.bucket !== input.bucket || !artifact.key.startsWith(input.prefix)) continue;
    const name = item.metadata.name ?? '';
    if (!catalog.has(artifact.key)) {
      await deleteRecord(input, item);
      deleted.push(name);
    } else if (artifact.localPath !== undefined && pruned.has(artifact.localPath)) {
      await removeLocalCopy(input, item);
      localCopyRemoved.push(name);
    }
  }
  if (deleted.length + localCopyRemoved.length > 0) {
    input.logger.info(
      { deleted, localCopyRemoved },
      'Backups updated to match the bucket after rotation',
    );
  }
  return { deleted, localCopyRemoved };
}

/** What a committed in-cluster run hands to {@link followBucketAfterRun}. */
export interface CommittedRun {
  readonly client: KubeClient;
  readonly namespace: string;
  readonly policy: string;
  readonly type: BackupType;
  readonly spec: BackupPolicySpec;
  readonly remote: ArtifactStore;
  readonly pruned: readonly string[];
  readonly logger: Logger;
}

/**
 * {@link forgetPrunedRecords} after a committed run; never throws: the backup is committed, and
 * a Backup left behind now is deleted after the next run of the policy and type.
 */
export async function followBucketAfterRun(run: CommittedRun): Promise<void> {
  const s3 = run.spec.storage?.s3;
  if (s3 === undefined) return;
  const location = { prefix: s3.prefix, namespace: run.namespace, policy: run.policy };
  try {
    await forgetPrunedRecords({
      ...run,
      bucket: s3.bucket,
      prefix: policyKeyPrefix({ ...location, type: run.type }),
    });
  } catch (error) {
    run.logger.warn(
      { err: error },
      'could not update the Backups of pruned backups; the next run of this policy does',
    );
  }
}
