/**
 * The storage adapter: artifact stores (S3 and a local volume) laid out per DESIGN.md §3, the
 * manifest that commits a backup, the catalog read back from a store, and the stream tee that
 * hashes what it writes.
 */
export type { ArtifactStore, CleanupReport, ObjectWriter } from './artifact-store.js';
export {
  createDigestTee,
  type DigestTee,
  type DigestTeeInput,
  type StreamDigest,
} from './digest-tee.js';
export { StorageError } from './errors.js';
export {
  type BackupLocation,
  backupKeyPrefix,
  formatKeyTimestamp,
  MANIFEST_NAME,
  type PolicyLocation,
  policyKeyPrefix,
  walKeyPrefix,
} from './key-scheme.js';
export { createLocalStore } from './local-store.js';
export {
  type BackupManifest,
  backupManifestSchema,
  type CatalogEntry,
  parseManifest,
  serializeManifest,
} from './manifest.js';
export { MAX_PARTS, MIN_PART_SIZE_BYTES, partSizeFor } from './part-size.js';
export { createS3Store, type RequestChecksumCalculation, type S3StoreConfig } from './s3-store.js';
export {
  createWalStore,
  type WalObject,
  type WalObjectHead,
  type WalObjectMetadata,
  WalObjectNotFoundError,
  type WalStore,
} from './wal-store.js';
