/**
 * The `Backup` object a run records itself in: created when the run starts, its status (via
 * the status subresource) written as the run goes, so `kubectl get backups` shows every run,
 * its slot, artifact and checksum, or the message of its failure.
 */
import {
  API_VERSION,
  BACKUP_KIND,
  BACKUP_PLURAL,
  type BackupStatus,
  type BackupType,
  GROUP,
  type LineName,
  VERSION,
} from '../api/index.js';
import { type KubeJsonClient, KubeRequestError } from './kube-config.js';

/** Which Backup a run records. */
export interface BackupRecordInput {
  readonly client: KubeJsonClient;
  readonly namespace: string;
  readonly name: string;
  readonly policy: string;
  readonly type: BackupType;
  readonly line: LineName;
  readonly labels?: Readonly<Record<string, string>>;
}

/** Writes the status of one Backup. */
export interface BackupRecord {
  readonly name: string;
  /** Merges `status` into the Backup's status. */
  update(status: BackupStatus): Promise<void>;
}

function pathOf(namespace: string, name?: string): string {
  const base = `/apis/${GROUP}/${VERSION}/namespaces/${namespace}/${BACKUP_PLURAL}`;
  return name === undefined ? base : `${base}/${name}`;
}

/**
 * Creates the Backup (or adopts it, when a retried Job created it already) and returns its
 * status writer.
 */
export async function createBackupRecord(input: BackupRecordInput): Promise<BackupRecord> {
  const { client, namespace, name } = input;
  try {
    await client.request('POST', pathOf(namespace), {
      apiVersion: API_VERSION,
      kind: BACKUP_KIND,
      metadata: { name, namespace, labels: { ...input.labels } },
      spec: { policy: input.policy, type: input.type, line: input.line },
    });
  } catch (error) {
    if (!(error instanceof KubeRequestError && error.status === 409)) throw error;
  }
  return statusWriter(client, namespace, name);
}

function statusWriter(client: KubeJsonClient, namespace: string, name: string): BackupRecord {
  return {
    name,
    update: async (status) => {
      await client.request(
        'PATCH',
        `${pathOf(namespace, name)}/status`,
        { status },
        'application/merge-patch+json',
      );
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
  client: KubeJsonClient,
  namespace: string,
  name: string,
): Promise<{ backup: ExistingBackup; record: BackupRecord }> {
  const backup = await client.request<ExistingBackup>('GET', pathOf(namespace, name));
  return { backup, record: statusWriter(client, namespace, name) };
}
