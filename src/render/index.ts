/**
 * What a policy wants (DESIGN.md §5): its CronJobs, its runner's identity, the Jobs of its
 * on-demand backups and its status, as pure functions of the policy, what exists and `now`.
 * No client, no clock, no I/O.
 */

export { drillImageOf } from './drill-image.js';
export { LABELS, MANAGED_SELECTOR, MANAGER_NAME, policyLabels } from './labels.js';
export { type Manifest, type Owner, type OwnerReference, ownerReferenceOf } from './manifest.js';
export { boundedName, CRON_JOB_NAME_MAX, shortHashOf } from './object-name.js';
export {
  findMissingSecret,
  type PolicyProblem,
  type PolicyValidity,
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
  LOCAL_COPY_MOUNT_PATH,
  renderRunnerPodSpec,
  secretNamesOf,
} from './runner-pod.js';
export { renderRunnerRbac, runnerRoleRulesOf, runnerServiceAccountNameOf } from './runner-rbac.js';
export { renderSlotTable, type SlotTableInput } from './slot-table.js';
