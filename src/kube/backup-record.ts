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
import type { KubeClient } from './kube-client.js';
import { isConflict } from './kube-errors.js';
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
