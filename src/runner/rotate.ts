/**
 * Rotation after a commit: the retention engine decides which backups of the line to delete;
 * this deletes them from one store. Nothing is deleted for a run that did not commit.
 */
import type { Logger } from 'pino';
import type { LineName } from '../api/index.js';
import { type BackupClock, type LineBackup, planPrune } from '../retention/index.js';
import type { ArtifactStore, CatalogEntry } from '../storage/index.js';
import { isOnDemand } from './on-demand.js';

/** The instants that say when a cataloged backup was taken (see `compareByClock`). */
export function backupClockOf(entry: CatalogEntry): BackupClock {
  const { committedAt, server } = entry.manifest;
  return {
    committedAtMs: Date.parse(committedAt),
    serverTimeMs: server.startedAt === undefined ? undefined : Date.parse(server.startedAt),
  };
}

/** A catalog entry as the retention engine sees it; on-demand backups (no line) are left out. */
export function lineBackupOf(entry: CatalogEntry): LineBackup | undefined {
  const { manifest } = entry;
  if (isOnDemand(manifest)) return undefined;
  return {
    id: entry.key,
    line: manifest.line as LineName,
    period: manifest.period,
    slot: manifest.slot,
    ...backupClockOf(entry),
  };
}

/** What {@link rotateStore} needs. */
export interface RotateInput {
  readonly store: ArtifactStore;
  /** The policy's key prefix for the backup type. */
  readonly prefix: string;
  readonly keep: number;
  /** The backup just committed in this store. */
  readonly committedKey: string;
  readonly logger: Logger;
}

/** Deletes what pruning expires in one store; returns the deleted keys. */
export async function rotateStore(input: RotateInput): Promise<string[]> {
  const catalog = await input.store.listBackups(input.prefix);
  const backups = catalog.flatMap((entry) => lineBackupOf(entry) ?? []);
  const committed = backups.find((backup) => backup.id === input.committedKey);
  const decisions = planPrune({ keep: input.keep, existing: backups, committed });
  for (const decision of decisions) {
    input.logger.info(
      { store: input.store.description, backup: decision.id, reason: decision.reason },
      'deleting backup',
    );
    await input.store.deleteBackup(decision.id);
  }
  return decisions.map((decision) => decision.id);
}
