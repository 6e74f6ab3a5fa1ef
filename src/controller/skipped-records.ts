/**
 * Skipped runs leave a Backup each (why the run did nothing); without a bound they pile up, so
 * the controller keeps only the newest few of each type and line and deletes the rest. Skipped
 * records hold no backup: deleting one never touches the bucket.
 */
import { API_VERSION, BACKUP_KIND } from '../api/index.js';
import { deleteObject, type KubeClient } from '../kube/index.js';
import type { BackupObject } from './backup-index.js';

/**
 * Skipped Backups kept per type and line. A count, not an age: it bounds the records whatever
 * the schedule, needs no clock, and still shows the latest reasons a line did nothing.
 */
export const SKIPPED_RECORDS_KEPT = 3;

function completedAtOf({ backup }: BackupObject): string {
  return backup.status?.completedAt ?? '';
}

/** The Skipped Backups beyond the newest {@link SKIPPED_RECORDS_KEPT} of each type and line. */
export function excessSkippedRecords(
  backups: readonly BackupObject[],
  kept: number = SKIPPED_RECORDS_KEPT,
): BackupObject[] {
  const groups = new Map<string, BackupObject[]>();
  for (const entry of backups) {
    if (entry.backup.status?.phase !== 'Skipped') continue;
    if (entry.object.metadata.deletionTimestamp !== undefined) continue;
    const key = `${entry.backup.spec.type}/${entry.backup.spec.line ?? ''}`;
    groups.set(key, [...(groups.get(key) ?? []), entry]);
  }
  return [...groups.values()].flatMap((group) =>
    group
      .sort(
        (left, right) =>
          completedAtOf(right).localeCompare(completedAtOf(left)) ||
          right.object.metadata.name.localeCompare(left.object.metadata.name),
      )
      .slice(kept),
  );
}

/** Deletes the excess Skipped Backups (each by uid, so a new one of that name is spared). */
export async function deleteExcessSkippedRecords(
  client: KubeClient,
  backups: readonly BackupObject[],
): Promise<string[]> {
  const excess = excessSkippedRecords(backups);
  for (const { object } of excess) {
    await deleteObject(client, {
      apiVersion: API_VERSION,
      kind: BACKUP_KIND,
      metadata: {
        name: object.metadata.name,
        namespace: object.metadata.namespace ?? '',
        ...(object.metadata.uid === undefined ? {} : { uid: object.metadata.uid }),
      },
    });
  }
  return excess.map(({ object }) => object.metadata.name);
}
