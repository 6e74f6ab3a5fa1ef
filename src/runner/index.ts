/** The runner: the CronJob entrypoint that takes, commits and rotates backups. */
export {
  clusterRecipientReader,
  type RecipientReader,
  type ResolvedRecipients,
  resolveRecipients,
} from './encryption-recipients.js';
export { RunError } from './errors.js';
export { isOnDemand } from './on-demand.js';
export { describeFailure } from './record-status.js';
export { lineBackupOf, rotateStore } from './rotate.js';
export { type BinaryRunInput, runBinaryBackup } from './run-binary-backup.js';
export { type ClusterRunInput, runInCluster } from './run-in-cluster.js';
export { runLogicalBackup } from './run-logical-backup.js';
export type {
  LocalCopy,
  RunCompletedResult,
  RunInput,
  RunResult,
  RunSkippedResult,
} from './run-types.js';
export { type S3Credentials, s3StoreConfigOf } from './store-config.js';
export {
  ENCRYPTED_SUFFIX,
  type StreamOptions,
  storedNameOf,
  streamBaseBackup,
  streamToStores,
} from './stream-backup.js';
