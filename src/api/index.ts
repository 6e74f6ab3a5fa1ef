/**
 * The pgbackup.dev/v1alpha1 API: zod schemas (the single source of truth), the types
 * inferred from them, validation with messages in the API server's shape, and the CRDs
 * generated from the schemas. Pure: no I/O, no clock, no environment.
 */

export { type Backup, type BackupInput, backupSchema } from './backup.js';
export {
  type BackupPolicy,
  type BackupPolicyInput,
  backupPolicySchema,
} from './backup-policy.js';
export {
  type BackupPolicySpec,
  type BackupPolicySpecInput,
  backupPolicySpecSchema,
} from './backup-policy-spec.js';
export {
  type BackupPolicyStatus,
  backupPolicyStatusSchema,
  CRON_JOB_PURPOSES,
  type CronJobStatus,
  type ReplicationSlotStatus,
  type SlotStatus,
} from './backup-policy-status.js';
export { type BackupSpec, backupSpecSchema } from './backup-spec.js';
export {
  BACKUP_END_PHASES,
  BACKUP_PHASES,
  type BackupEndPhase,
  type BackupPhase,
  type BackupStatus,
  backupStatusSchema,
  isEndPhase,
  LSN_PATTERN,
} from './backup-status.js';
export { BECH32_CHARSET } from './bech32.js';
export { CHECKPOINT_MODES, COMPRESSIONS } from './binary.js';
export { type Condition, conditionSchema } from './condition.js';
export {
  CONTINUOUS_STATES,
  type ContinuousSpec,
  type ContinuousState,
  type ContinuousStatus,
  continuousSchema,
  continuousStatusSchema,
  parseWindowSeconds,
  SLOT_WAL_STATUSES,
  WAL_SLOT_PREFIX,
  WINDOW_PATTERN,
} from './continuous.js';
export { buildBackupCrd, buildBackupPolicyCrd } from './crd/crds.js';
export type { CustomResourceDefinition, PrinterColumn } from './crd/custom-resource-definition.js';
export { CATEGORY } from './crd/custom-resource-definition.js';
export { type GeneratedFile, renderCrdFiles } from './crd/render-crd-files.js';
export { DURATION_PATTERN, parseDurationSeconds } from './duration.js';
export {
  AGE_RECIPIENT_PATTERN,
  describeRecipientProblem,
  type EncryptionSpec,
  encryptionSchema,
  FINGERPRINT_PATTERN,
  isAgeRecipient,
  MAX_RECIPIENTS,
  type ManifestEncryption,
  manifestEncryptionSchema,
  type RecipientSpec,
} from './encryption.js';
export { formatIssues } from './format-issues.js';
export {
  API_VERSION,
  BACKUP_KIND,
  BACKUP_PLURAL,
  BACKUP_POLICY_KIND,
  BACKUP_POLICY_PLURAL,
  GROUP,
  VERSION,
} from './group-version.js';
export {
  BACKUP_TYPES,
  type BackupType,
  BINARY_LINES,
  DEFAULT_KEEP,
  KEEP_MAX,
  KEEP_MIN,
  LINE_RULES,
  type LineName,
  LOGICAL_LINES,
  type LogicalLineName,
} from './lines.js';
export type { ObjectMeta } from './object-meta.js';
export { parseBackup, parseBackupPolicy, parseRestore } from './parse.js';
export {
  RESTORE_KIND,
  RESTORE_PLURAL,
  type Restore,
  type RestoreInput,
  restoreSchema,
} from './restore.js';
export { buildRestoreCrd } from './restore-crd.js';
export { RESTORE_LINES, type RestoreSpec, restoreSpecSchema } from './restore-spec.js';
export {
  isRestoreEnded,
  RESTORE_PHASES,
  type RestorePhase,
  type RestoreStatus,
  restoreStatusSchema,
} from './restore-status.js';
export {
  type PolicyReferences,
  runnerConfigMapNamesOf,
  runnerSecretNamesOf,
} from './runner-secrets.js';
export { TIME_OF_DAY_PATTERN, WEEKDAYS, type Weekday } from './schedule.js';
export { SSE_ALGORITHMS } from './storage.js';
export { PRESET_KINDS, type PresetKind } from './target.js';
export { describeTimeZoneProblem } from './time-zone.js';
export { formatFieldPath, type ParseResult, type ValidationIssue } from './validation-issue.js';
export { VERIFY_SCHEDULES } from './verify.js';
