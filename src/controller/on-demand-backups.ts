/**
 * On-demand backups: a `Backup` a person created (a policy and a type, no line) gets one Job
 * from the policy's template. Its status follows the run: Pending once the Job exists; the
 * runner records Running, Completed or Failed; a Job that fails before the runner could
 * record anything (deadline, image pull, admission) marks the Backup Failed here.
 */
import {
  API_VERSION,
  BACKUP_KIND,
  type Backup,
  type BackupPolicy,
  type BackupStatus,
  isEndPhase,
} from '../api/index.js';
import {
  applyManifest,
  applyStatus,
  type KubeClient,
  type KubeObject,
  type ObjectCache,
} from '../kube/index.js';
import { backupJobNameOf, type RunSettings, renderBackupJob } from '../render/index.js';

/** What the on-demand pass needs. */
export interface OnDemandInput {
  readonly client: KubeClient;
  readonly jobs: ObjectCache;
  readonly policy: BackupPolicy;
  readonly settings: RunSettings;
}

/** A Backup with the raw object it was parsed from (for its uid). */
export interface BackupObject {
  readonly backup: Backup;
  readonly object: KubeObject;
}

interface JobCondition {
  readonly type?: string;
  readonly status?: string;
  readonly reason?: string;
  readonly message?: string;
}

function failedConditionOf(job: KubeObject | undefined): JobCondition | undefined {
  const status = job?.status as { conditions?: JobCondition[] } | undefined;
  return status?.conditions?.find(
    (condition) => condition.type === 'Failed' && condition.status === 'True',
  );
}

function statusUpdateOf(
  backup: Backup,
  job: KubeObject | undefined,
  jobName: string,
): BackupStatus | undefined {
  const phase = backup.status?.phase;
  const failed = failedConditionOf(job);
  if (failed !== undefined && (phase === undefined || phase === 'Pending' || phase === 'Running')) {
    const why = [failed.reason, failed.message].filter(Boolean).join(': ');
    return {
      phase: 'Failed',
      message: `The Job "${jobName}" failed before the backup was recorded (${why || 'no reason given'}); see "kubectl describe job ${jobName}" and its pod's logs, then create a new Backup.`,
    };
  }
  if (phase === undefined)
    return { phase: 'Pending', message: `Waiting for the Job "${jobName}" to run.` };
  return undefined;
}

async function runOnDemand(input: OnDemandInput, { backup, object }: BackupObject): Promise<void> {
  const namespace = object.metadata.namespace ?? '';
  const jobName = backupJobNameOf(object.metadata.name);
  let job = input.jobs.get(`${namespace}/${jobName}`);
  if (job === undefined && backup.status?.phase === undefined) {
    const manifest = renderBackupJob({
      backup,
      backupUid: object.metadata.uid ?? '',
      policy: input.policy,
      settings: input.settings,
    });
    job = await applyManifest(input.client, manifest);
  }
  const status = statusUpdateOf(backup, job, jobName);
  if (status === undefined) return;
  await applyStatus(input.client, {
    apiVersion: API_VERSION,
    kind: BACKUP_KIND,
    metadata: { name: object.metadata.name, namespace },
    status,
  });
}

/** Starts the Jobs of new on-demand Backups and records Jobs that failed; returns how many. */
export async function reconcileOnDemandBackups(
  input: OnDemandInput,
  backups: readonly BackupObject[],
): Promise<number> {
  const pending = backups.filter(
    ({ backup, object }) =>
      backup.spec.line === undefined &&
      object.metadata.deletionTimestamp === undefined &&
      !isEndPhase(backup.status?.phase),
  );
  for (const entry of pending) await runOnDemand(input, entry);
  return pending.length;
}
