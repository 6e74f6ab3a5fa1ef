/** The runner: the CronJob entrypoint that takes, commits and rotates backups. */
export { RunError } from './errors.js';
export { lineBackupOf, rotateStore } from './rotate.js';
export {
  type BinaryRunInput,
  type BinaryRunResult,
  type LocalCopy,
  type RunCompletedResult,
  type RunSkippedResult,
  runBinaryBackup,
} from './run-binary-backup.js';
export { type ClusterRunInput, describeFailure, runBinaryInCluster } from './run-in-cluster.js';
export { type S3Credentials, s3StoreConfigOf } from './store-config.js';
export { streamBaseBackup } from './stream-backup.js';
