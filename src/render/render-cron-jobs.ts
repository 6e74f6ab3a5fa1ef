/**
 * The CronJobs a policy wants: one per enabled type × line, plus the restore drill when
 * `spec.verify.schedule` is set. Schedules and time zones come from the retention engine,
 * which is the one place that computes them.
 */
import {
  API_VERSION,
  BACKUP_POLICY_KIND,
  type BackupPolicy,
  type BackupType,
  type CronJobStatus,
  type LineName,
} from '../api/index.js';
import { cronScheduleOf, retentionPlanOf } from '../retention/index.js';
import { LABELS, policyLabels } from './labels.js';
import { type Manifest, type Owner, ownerReferenceOf } from './manifest.js';
import { boundedName, CRON_JOB_NAME_MAX } from './object-name.js';
import { DEFAULT_RUN_DEADLINE_SECONDS } from './run-lifetime.js';
import { identityArgsOf, renderRunnerPodSpec } from './runner-pod.js';
import { runnerServiceAccountNameOf } from './runner-rbac.js';

/** Settings of the controller that shape every CronJob. */
export interface RunSettings {
  /** The image of the operator's release, used unless `spec.jobTemplate.image` is set. */
  readonly defaultImage: string;
  /**
   * The image of restore drills: the release's image with the PostgreSQL servers the drill
   * starts (the Dockerfile's `drill` target), used unless `spec.jobTemplate.image` is set.
   * Backups need neither the servers (≈ 450 MB) nor every locale (≈ 230 MB), so their
   * image stays that much smaller.
   */
  readonly verifyImage: string;
  /**
   * How long one run may take before Kubernetes ends it (`activeDeadlineSeconds`). The
   * default, 23 hours, ends a stuck daily run before the next one is due, so a hung server
   * shows up as a failed run instead of a silent gap. Clean-up after dead runs derives what
   * only a dead run can have left from it (run-lifetime.ts).
   */
  readonly runDeadlineSeconds: number;
  /** Finished Jobs kept per CronJob, for `kubectl logs` after a failure. */
  readonly historyLimit: number;
}

/** Defaults of {@link RunSettings}. */
export const DEFAULT_RUN_SETTINGS: RunSettings = {
  defaultImage: 'pgbackup-operator:latest',
  verifyImage: 'pgbackup-operator:latest-drill',
  runDeadlineSeconds: DEFAULT_RUN_DEADLINE_SECONDS,
  historyLimit: 3,
};

/** The inputs of {@link renderCronJobs}. */
export interface RenderCronJobsInput {
  readonly policy: BackupPolicy;
  /** The policy's `metadata.uid`, for owner references. */
  readonly uid: string;
  readonly settings: RunSettings;
}

/** What one CronJob runs: a type and line, or the restore drill. */
export type CronJobPurpose =
  | { readonly type: BackupType; readonly line: LineName }
  | { readonly type: 'verify' };

/** A desired CronJob and the status row describing it. */
export interface DesiredCronJob {
  readonly manifest: Manifest;
  readonly status: CronJobStatus;
}

/** `<policy>-<type>-<line>` or `<policy>-verify`, cut with a hash to fit the CronJob limit. */
export function cronJobNameOf(policyName: string, purpose: CronJobPurpose): string {
  const suffix = purpose.type === 'verify' ? 'verify' : `${purpose.type}-${purpose.line}`;
  return boundedName(`${policyName}-${suffix}`, CRON_JOB_NAME_MAX);
}

/** The owner every object of a policy points at. */
export function policyOwnerOf(policy: BackupPolicy, uid: string): Owner {
  return {
    apiVersion: API_VERSION,
    kind: BACKUP_POLICY_KIND,
    name: policy.metadata.name ?? '',
    namespace: policy.metadata.namespace ?? '',
    uid,
  };
}

function purposesOf(policy: BackupPolicy): CronJobPurpose[] {
  const plan = retentionPlanOf(policy.spec);
  const purposes: CronJobPurpose[] = [
    ...plan.binary.map(({ line }) => ({ type: 'binary' as const, line })),
    ...plan.logical.map(({ line }) => ({ type: 'logical' as const, line })),
  ];
  if (policy.spec.verify.schedule !== 'never') purposes.push({ type: 'verify' });
  return purposes;
}

/** Where the drill's Job mounts its work volume (the backup, compressed and then restored). */
export const VERIFY_WORK_MOUNT_PATH = '/var/lib/pgbackup-verify';

function argsOf(policy: BackupPolicy, policyKey: string, purpose: CronJobPurpose): string[] {
  if (purpose.type === 'verify') {
    return [
      'verify',
      '--policy',
      policyKey,
      '--scheduled',
      '--work-dir',
      VERIFY_WORK_MOUNT_PATH,
      // The drill reads backups: the identity, mounted as a file, only here.
      ...identityArgsOf(policy),
    ];
  }
  return ['run', '--policy', policyKey, '--type', purpose.type, '--line', purpose.line];
}

function scheduleOf(policy: BackupPolicy, purpose: CronJobPurpose) {
  const plan = retentionPlanOf(policy.spec);
  // The drill runs on the calendar of the line its schedule is named after (the monthly
  // drill on the days the monthly line fires, and the drill's command skips the others).
  const schedule = policy.spec.verify.schedule;
  const line: LineName =
    purpose.type === 'verify' ? (schedule === 'never' ? 'daily' : schedule) : purpose.line;
  return { cron: cronScheduleOf({ schedule: plan.schedule, line }), plan };
}

function purposeLabels(purpose: CronJobPurpose): Record<string, string> {
  return purpose.type === 'verify'
    ? { [LABELS.type]: 'verify' }
    : { [LABELS.type]: purpose.type, [LABELS.line]: purpose.line };
}

function renderCronJob(input: RenderCronJobsInput, purpose: CronJobPurpose): DesiredCronJob {
  const { policy, settings } = input;
  const owner = policyOwnerOf(policy, input.uid);
  const name = cronJobNameOf(owner.name, purpose);
  const labels = { ...policyLabels(owner.name), ...purposeLabels(purpose) };
  const { cron, plan } = scheduleOf(policy, purpose);
  const podSpec = renderRunnerPodSpec({
    policy,
    defaultImage: purpose.type === 'verify' ? settings.verifyImage : settings.defaultImage,
    serviceAccountName: runnerServiceAccountNameOf(owner.name),
    args: argsOf(policy, `${owner.namespace}/${owner.name}`, purpose),
    mountLocalCopy: purpose.type === 'binary' && purpose.line === 'daily',
    workVolumePath: purpose.type === 'verify' ? VERIFY_WORK_MOUNT_PATH : undefined,
    mountIdentity: purpose.type === 'verify',
  });
  const manifest: Manifest = {
    apiVersion: 'batch/v1',
    kind: 'CronJob',
    metadata: {
      name,
      namespace: owner.namespace,
      labels,
      ownerReferences: [ownerReferenceOf(owner)],
    },
    spec: {
      schedule: cron.schedule,
      timeZone: cron.timeZone,
      // Two runs of one line never overlap; a run still going when the next is due wins.
      concurrencyPolicy: 'Forbid',
      suspend: policy.spec.suspend,
      // A trigger the CronJob controller missed by more than the lateness would be skipped
      // by the runner anyway; not starting it keeps the Job history honest.
      startingDeadlineSeconds: Math.max(10, plan.schedule.latenessSeconds),
      successfulJobsHistoryLimit: settings.historyLimit,
      failedJobsHistoryLimit: settings.historyLimit,
      jobTemplate: {
        metadata: { labels },
        spec: {
          backoffLimit: 0,
          activeDeadlineSeconds: settings.runDeadlineSeconds,
          template: { metadata: { labels }, spec: podSpec },
        },
      },
    },
  };
  const status: CronJobStatus =
    purpose.type === 'verify'
      ? { name, type: 'verify', schedule: cron.schedule }
      : { name, type: purpose.type, line: purpose.line, schedule: cron.schedule };
  return { manifest, status };
}

/** Every CronJob a valid policy wants, binary lines first, then logical, then the drill. */
export function renderCronJobs(input: RenderCronJobsInput): DesiredCronJob[] {
  return purposesOf(input.policy).map((purpose) => renderCronJob(input, purpose));
}
