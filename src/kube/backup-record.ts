/**
 * The `Backup` object a run records itself in: created when the run starts, its status (via
 * the status subresource) written as the run goes, so `kubectl get backups` shows every run,
 * its slot, artifact and checksum, or the message of its failure.
 */
import {
  API_VERSION,
  BACKUP_KIND,
  type BackupStatus,
  type BackupType,
  type LineName,
} from '../api/index.js';
import { type BackoffPolicy, backoffDelayMs, sleepUnlessAborted } from './backoff.js';
import type { KubeClient } from './kube-client.js';
import { isConflict, isTransient } from './kube-errors.js';
import { RESOURCES, resourcePath } from './resource.js';

/** Which Backup a run records. */
export interface BackupRecordInput {
  readonly client: KubeClient;
  readonly namespace: string;
  readonly name: string;
  readonly policy: string;
  readonly type: BackupType;
  readonly line: LineName;
  readonly labels?: Readonly<Record<string, string>>;
}

/** A change to a Backup's status: a field set to null is removed (JSON merge patch). */
export type BackupStatusPatch = {
  readonly [K in keyof BackupStatus]?: BackupStatus[K] | null;
};

/** Writes the status of one Backup. */
export interface BackupRecord {
  readonly name: string;
  /** Merges `status` into the Backup's status; null fields are removed. */
  update(status: BackupStatusPatch): Promise<void>;
}

/** What a new Backup says: where it is, and its spec (without a line: an on-demand one). */
export interface NewBackup {
  readonly namespace: string;
  readonly name: string;
  readonly labels?: Readonly<Record<string, string>> | undefined;
  readonly spec: {
    readonly policy: string;
    readonly type: BackupType;
    readonly line?: LineName | undefined;
  };
}

/** Creates a Backup; returns false, changing nothing, when one of that name exists already. */
export async function createBackupObject(client: KubeClient, backup: NewBackup): Promise<boolean> {
  const { namespace, name } = backup;
  try {
    await client.request({
      verb: 'create',
      path: resourcePath(RESOURCES.backup, { namespace }),
      body: {
        apiVersion: API_VERSION,
        kind: BACKUP_KIND,
        metadata: { name, namespace, labels: { ...backup.labels } },
        spec: backup.spec,
      },
      what: `create Backup ${namespace}/${name}`,
    });
    return true;
  } catch (error) {
    if (!isConflict(error)) throw error;
    return false;
  }
}

/**
 * Creates the Backup (or adopts it, when a retried Job created it already) and returns its
 * status writer.
 */
export async function createBackupRecord(input: BackupRecordInput): Promise<BackupRecord> {
  const { client, namespace, name } = input;
  await createBackupObject(client, {
    namespace,
    name,
    labels: input.labels,
    spec: { policy: input.policy, type: input.type, line: input.line },
  });
  return statusWriter(client, namespace, name);
}

function statusWriter(client: KubeClient, namespace: string, name: string): BackupRecord {
  return {
    name,
    update: async (status) => {
      await client.request({
        verb: 'patch',
        path: resourcePath(RESOURCES.backup, { namespace, name, subresource: 'status' }),
        body: { status },
        contentType: 'application/merge-patch+json',
        what: `update the status of Backup ${namespace}/${name}`,
      });
    },
  };
}

/** How long, and how often, {@link updateUntilRecorded} tries. */
export interface RecordRetry {
  /** After this long no new attempt starts; the last error is thrown. */
  readonly retryForMs: number;
  readonly backoff: BackoffPolicy;
}

/**
 * For a committed backup's status: three minutes outlast an API server's restart or a short
 * outage, well within a run's deadline; the backoff keeps a run from hammering a server that
 * is coming back.
 */
export const COMMITTED_RECORD_RETRY: RecordRetry = {
  retryForMs: 180_000,
  backoff: { baseMs: 1_000, maxMs: 15_000 },
};

/**
 * `record.update(status)`, tried again with backoff while the API server fails transiently
 * (unreachable, 5xx, 429) and `retry.retryForMs` has not passed. The client's own retries
 * give up after seconds; a committed backup's record is worth waiting minutes for, as a
 * Backup left Running would hide a good backup.
 *
 * @param onRetry told of each failure that will be tried again, for the log
 * @throws the last error: a permanent one at once, a transient one once the time is up
 */
export async function updateUntilRecorded(
  record: BackupRecord,
  status: BackupStatusPatch,
  retry: RecordRetry,
  onRetry: (error: unknown, delayMs: number) => void = () => {},
): Promise<void> {
  const deadline = AbortSignal.timeout(retry.retryForMs);
  // Bounded by the deadline: past it, the wait ends at once and the next failure is thrown.
  for (let failures = 1; ; failures += 1) {
    try {
      await record.update(status);
      return;
    } catch (error) {
      if (!isTransient(error) || deadline.aborted) throw error;
      const delayMs = backoffDelayMs(retry.backoff, failures);
      onRetry(error, delayMs);
      await sleepUnlessAborted(delayMs, deadline);
    }
  }
}

/** A Backup someone else created (an on-demand one), as the run reads it. */
export interface ExistingBackup {
  readonly spec?: { readonly policy?: string; readonly type?: string; readonly line?: string };
}

/**
 * Reads an existing Backup (an on-demand one, created by a user, whose Job runs this) and
 * returns it with its status writer.
 */
export async function adoptBackupRecord(
  client: KubeClient,
  namespace: string,
  name: string,
): Promise<{ backup: ExistingBackup; record: BackupRecord }> {
  const backup = await client.request<ExistingBackup>({
    verb: 'get',
    path: resourcePath(RESOURCES.backup, { namespace, name }),
    what: `get Backup ${namespace}/${name}`,
  });
  return { backup, record: statusWriter(client, namespace, name) };
}
