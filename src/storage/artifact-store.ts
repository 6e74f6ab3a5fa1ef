/** What the runner needs of a place that keeps backups: the S3 bucket, or a local volume. */
import type { Readable, Writable } from 'node:stream';
import type { BackupManifest, CatalogEntry } from './manifest.js';

/** An object being written. */
export interface ObjectWriter {
  /** Write the data here; end it only when the data is complete. */
  readonly writable: Writable;
  /** Settles when the object is stored (after `writable` ended) or failed. */
  readonly stored: Promise<void>;
  /** Discards what was written; safe to call after a failure. */
  abort(): Promise<void>;
}

/** What was cleaned up before a run. */
export interface CleanupReport {
  readonly abortedUploads: readonly string[];
  readonly deletedObjects: readonly string[];
}

/** A store of backups laid out per DESIGN.md §3. */
export interface ArtifactStore {
  /** For logs and messages, e.g. `s3://bucket` or `local volume /var/lib/pgbackup/local`. */
  readonly description: string;
  /** Fails with an actionable message when the store cannot be used (missing, no access). */
  check(): Promise<void>;
  /** Starts writing the object `key`. */
  openObject(key: string, options: { readonly partSizeBytes: number }): ObjectWriter;
  /** Streams the object `key`; fails with a StorageError naming it when it cannot be read. */
  readObject(key: string): Promise<Readable>;
  /** Commits a backup: writes `<backupKey>manifest.json`; returns the manifest's SHA-256. */
  commit(backupKey: string, manifest: BackupManifest): Promise<string>;
  /** The committed backups under a prefix. */
  listBackups(prefix: string): Promise<CatalogEntry[]>;
  /** Deletes a backup: its manifest first (it stops existing), then its data. */
  deleteBackup(backupKey: string): Promise<void>;
  /**
   * Removes what dead runs left under a prefix: unfinished uploads started, and data with no
   * manifest last written, before `deadBeforeMs`. Anything newer may be a live run's (one
   * queued behind the lock, or one that lost it), so the caller derives the cutoff from the
   * longest a run can live (render/run-lifetime.ts), and this never goes past it.
   */
  cleanUp(prefix: string, deadBeforeMs: number): Promise<CleanupReport>;
}
