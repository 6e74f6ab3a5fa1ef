/**
 * Which committed backup a command works on: the newest one (the one a restore reaches for
 * first), the newest of a line, or the one a person named by its key. The choice is pure;
 * {@link findBackup} reads the catalog for it.
 */
import type { BackupType, LineName } from '../api/index.js';
import { compareByClock, compareNewestFirst, type LineBackup } from '../retention/index.js';
import { type ArtifactStore, type CatalogEntry, policyKeyPrefix } from '../storage/index.js';
import { RunError } from './errors.js';
import { isOnDemand } from './on-demand.js';
import { backupClockOf } from './rotate.js';

/** Where a policy's backups are: a store, and the key prefix its layout starts at. */
export interface PolicyBackups {
  readonly namespace: string;
  /** The policy's name. */
  readonly policy: string;
  /** `spec.storage.s3.prefix` (a local volume uses the same layout). */
  readonly prefix: string;
  readonly store: ArtifactStore;
}

/** An entry as the retention engine orders it (an on-demand one as a line of its own). */
function recencyOf(entry: CatalogEntry): LineBackup {
  const { line, period, slot } = entry.manifest;
  return { id: entry.key, line: line as LineName, period, slot, ...backupClockOf(entry) };
}

function compareEntries(a: CatalogEntry, b: CatalogEntry): number {
  return compareNewestFirst(recencyOf(a), recencyOf(b));
}

/**
 * The catalog newest first. Within one type and line, in the order rotation judges the
 * newest by (period, then the server's clock, then the runner's: retention's
 * `compareNewestFirst`), so `pgbackup list`, a restore and "never prune the newest" agree;
 * across lines, where periods do not compare, by the server's clock (`compareByClock`),
 * each line's backups taking the places its own backups hold in that order.
 */
export function sortNewestFirst(entries: readonly CatalogEntry[]): CatalogEntry[] {
  const groupOf = (entry: CatalogEntry) => `${entry.manifest.type}/${lineOf(entry)}`;
  const groups = new Map<string, CatalogEntry[]>();
  for (const entry of entries)
    groups.set(groupOf(entry), [...(groups.get(groupOf(entry)) ?? []), entry]);
  for (const members of groups.values()) members.sort(compareEntries);
  const byClock = [...entries].sort(
    (a, b) => compareByClock(backupClockOf(a), backupClockOf(b)) || compareEntries(a, b),
  );
  return byClock.flatMap((entry) => groups.get(groupOf(entry))?.shift() ?? []);
}

/**
 * The newest of the committed backups, whatever its line (the first `pgbackup list` shows):
 * on-demand backups count too, since the newest backup is the one a restore would reach for
 * first.
 */
export function newestBackupOf(entries: readonly CatalogEntry[]): CatalogEntry | undefined {
  return sortNewestFirst(entries)[0];
}

/** The line a backup belongs to, as commands name it: `on-demand` for one that has none. */
export function lineOf(entry: CatalogEntry): string {
  return isOnDemand(entry.manifest) ? 'on-demand' : entry.manifest.line;
}

/** How a person picks a backup: by key, else the newest of a line, else the newest. */
export interface BackupChoice {
  /** A backup's key as `pgbackup list` prints it (with or without the trailing `/`). */
  readonly key?: string | undefined;
  /** A line (`daily`, …, or `on-demand`): its newest backup. */
  readonly line?: string | undefined;
}

/**
 * The backup `choice` names among `entries` (one policy's backups of one type).
 *
 * @param where what the entries are, for messages, e.g. `binary backups of BackupPolicy db/orders in s3://b`
 * @throws RunError naming what was looked for and what there is instead
 */
export function chooseBackup(
  entries: readonly CatalogEntry[],
  choice: BackupChoice,
  where: string,
): CatalogEntry {
  if (choice.key !== undefined) {
    const wanted = choice.key.endsWith('/') ? choice.key : `${choice.key}/`;
    const found = entries.find((entry) => entry.key === wanted);
    if (found === undefined) {
      throw new RunError(
        `no committed backup has the key ${wanted} among the ${entries.length} ${where}: copy a key from \`pgbackup list\` (a backup whose manifest.json is missing was never committed and cannot be restored)`,
      );
    }
    return found;
  }
  const candidates =
    choice.line === undefined ? entries : entries.filter((entry) => lineOf(entry) === choice.line);
  const newest = newestBackupOf(candidates);
  if (newest === undefined) {
    const lines = [...new Set(entries.map(lineOf))].sort();
    const what = choice.line === undefined ? '' : ` of line ${choice.line}`;
    throw new RunError(
      entries.length === 0
        ? `there are no committed ${where}: take a backup first (\`pgbackup run\`, or an on-demand Backup)`
        : `there is no committed backup${what} among the ${where}; there are backups of ${lines.join(', ')}`,
    );
  }
  return newest;
}

/**
 * Lists the policy's committed backups of `type` and returns the one `choice` names.
 *
 * @throws RunError as {@link chooseBackup} does; StorageError when the store cannot be listed
 */
export async function findBackup(
  backups: PolicyBackups,
  type: BackupType,
  choice: BackupChoice,
): Promise<CatalogEntry> {
  const prefix = policyKeyPrefix({ ...backups, type });
  const entries = await backups.store.listBackups(prefix);
  const where = `${type} backups of BackupPolicy ${backups.namespace}/${backups.policy} under ${prefix} in ${backups.store.description}`;
  return chooseBackup(entries, choice, where);
}
