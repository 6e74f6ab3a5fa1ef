/** Which backup a restore drill restores: the newest committed binary backup of the policy. */
import type { CatalogEntry } from '../storage/index.js';

/**
 * The newest of the committed backups by commit time (then by key, which starts with the UTC
 * time the backup began), whatever its line: on-demand backups count too, since the newest
 * backup is the one a restore would reach for first.
 */
export function newestBackupOf(entries: readonly CatalogEntry[]): CatalogEntry | undefined {
  let newest: CatalogEntry | undefined;
  for (const entry of entries) {
    const committedMs = Date.parse(entry.manifest.committedAt);
    const newestMs =
      newest === undefined ? Number.NEGATIVE_INFINITY : Date.parse(newest.manifest.committedAt);
    if (
      newest === undefined ||
      committedMs > newestMs ||
      (committedMs === newestMs && entry.key > newest.key)
    ) {
      newest = entry;
    }
  }
  return newest;
}
