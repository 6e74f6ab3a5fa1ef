/**
 * `manifest.json`, written last: a backup exists iff its manifest exists. It describes the
 * backup completely, so the bucket alone is a catalog.
 */
import * as z from 'zod';
import { manifestEncryptionSchema } from '../api/index.js';

const storedObject = z.object({
  name: z.string().min(1),
  sizeBytes: z.number().int().min(0),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
});

/** The manifest's schema; version 1. */
export const backupManifestSchema = z.object({
  formatVersion: z.literal(1),
  id: z.string().min(1),
  namespace: z.string(),
  policy: z.string(),
  type: z.enum(['binary', 'logical']),
  /** Empty for an on-demand backup, which belongs to no line. */
  line: z.string(),
  period: z.number().int(),
  slot: z.number().int().min(0),
  slotLabel: z.string(),
  /** The instant the run decided its period at (`--at`, or the clock). */
  runAt: z.string(),
  startedAt: z.string(),
  completedAt: z.string(),
  committedAt: z.string(),
  server: z.object({
    host: z.string(),
    version: z.string(),
    versionNumber: z.number().int(),
    startLsn: z.string().optional(),
    stopLsn: z.string().optional(),
    /**
     * The timeline the backup started on (binary backups): with `startLsn`, where WAL replay
     * from this backup begins, so WAL retention can tell whether it leads to the newest
     * timeline. Absent in manifests written before it was recorded.
     */
    startTimeline: z.number().int().min(1).optional(),
    /**
     * The server's own clock (`clock_timestamp()`) when the backup began. Every run of a
     * policy and type reads the server it backs up, so this one clock orders backups that
     * runners on nodes with different clocks committed; absent in manifests written before
     * it was recorded.
     */
    startedAt: z.string().optional(),
  }),
  /** The algorithm (binary: zstd, gzip, lz4 or none), which a restore decompresses with. */
  compression: z.string(),
  /**
   * The level and zstd workers the policy asked for; absent when it asked for the tool's
   * defaults, and in manifests written before they were recorded.
   */
  compressionSettings: z
    .object({ level: z.number().int().optional(), workers: z.number().int().optional() })
    .optional(),
  objects: z.array(storedObject).min(1),
  tools: z.record(z.string(), z.string()),
  /** Absent: the objects are stored plain (so in every manifest written before encryption). */
  encryption: manifestEncryptionSchema.optional(),
});

/** A backup's manifest. */
export type BackupManifest = z.infer<typeof backupManifestSchema>;

/** A committed backup as a store lists it: its key prefix and manifest. */
export interface CatalogEntry {
  /** The backup's key prefix, ending in `/`. */
  readonly key: string;
  readonly manifest: BackupManifest;
}

/** The manifest's bytes as stored: stable JSON, one trailing newline. */
export function serializeManifest(manifest: BackupManifest): string {
  return `${JSON.stringify(manifest, null, 2)}\n`;
}

/** Parses stored manifest text, or returns `undefined` when it is not a manifest of ours. */
export function parseManifest(text: string): BackupManifest | undefined {
  try {
    const parsed = backupManifestSchema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}
