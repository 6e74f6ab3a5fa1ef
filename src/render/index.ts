/**
 * What a policy wants (DESIGN.md §5): its CronJobs, its runner's identity, the Jobs of its
 * on-demand backups, its WAL receiver and its status, as pure functions of the policy, what
 * exists and `now`. No client, no clock, no I/O.
 */

export {
  CONTINUOUS_CONDITION,
  type ContinuousConditionInput,
  continuousConditionOf,
  isReceiverUp,
  msUntilHeartbeatStale,
  RECEIVER_HEARTBEAT_STALE_MS,
} from './continuous-condition.js';
export { drillImageOf } from './drill-image.js';
export {
  GAP_BACKUP_ANNOTATION,
  gapBackupNameOf,
  renderGapBackup,
  type WalGap,
} from './gap-backup.js';
export { LABELS, MANAGED_SELECTOR, MANAGER_NAME, policyLabels } from './labels.js';
export { type Manifest, type Owner, type OwnerReference, ownerReferenceOf } from './manifest.js';
export { boundedName, CRON_JOB_NAME_MAX, shortHashOf } from './object-name.js';
export {
  configMapFieldsOf,
  findMissingReference,
  type PolicyProblem,
  type PolicyValidity,
  type ReferenceLookup,
  secretFieldsOf,
  validatePolicyObject,
} from './policy-validity.js';
export {
  backupJobNameOf,
  type RenderBackupJobInput,
  renderBackupJob,
} from './render-backup-job.js';
export {
  type CronJobPurpose,
  cronJobNameOf,
  DEFAULT_RUN_SETTINGS,
  type DesiredCronJob,
  policyOwnerOf,
  type RenderCronJobsInput,
  type RunSettings,
  renderCronJobs,
} from './render-cron-jobs.js';
export {
  latestFinishedBackup,
  type ReconcileOutcome,
  type RenderStatusInput,
  renderPolicyStatus,
} from './render-status.js';
export {
  RESTORE_DATA_DIR,
  RESTORE_LABEL,
  RESTORE_MOUNT_PATH,
  type RenderRestoreJobInput,
  renderRestoreClaim,
  renderRestoreJob,
  restoreChoiceArgs,
  restoreJobNameOf,
} from './restore-job.js';
export {
  type PodUse,
  planRestore,
  type RestorePlan,
  type RestorePlanInput,
} from './restore-plan.js';
export {
  LOCAL_COPY_MOUNT_PATH,
  renderRunnerPodSpec,
  secretNamesOf,
} from './runner-pod.js';
export { renderRunnerRbac, runnerRoleRulesOf, runnerServiceAccountNameOf } from './runner-rbac.js';
export { renderSlotTable, type SlotTableInput } from './slot-table.js';
export {
  type RenderWalReceiverInput,
  receiverSettingsHashOf,
  renderWalReceiver,
  WAL_RECEIVER_COMPONENT,
  WAL_RECEIVER_GRACE_SECONDS,
  WAL_RECEIVER_METRICS_PORT,
  WAL_RECEIVER_NODE_OPTIONS,
  WAL_RECEIVER_SETTINGS_ANNOTATION,
  WAL_SPOOL_MOUNT_PATH,
  walReceiverLabels,
  walReceiverNameOf,
  walSpoolClaimNameOf,
  wantsWalReceiver,
} from './wal-receiver.js';
