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
  RESOURCES,
  resourcePath,
} from '../kube/index.js';
import {
  backupJobNameOf,
  LABELS,
  policyLabels,
  type RunSettings,
  renderBackupJob,
} from '../render/index.js';
import type { BackupObject } from './backup-index.js';

/** What the on-demand pass needs. */
export interface OnDemandInput {
  readonly client: KubeClient;
  readonly jobs: ObjectCache;
  readonly policy: BackupPolicy;
  readonly settings: RunSettings;
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

/**
 * Gives a Backup someone made by hand (kubectl, `pgbackup backup`) the labels a line's Backup
 * has, so `kubectl get backups -l pgbackup.dev/policy=NAME` lists it as `pgbackup list` does.
 */
async function labelBackup(input: OnDemandInput, { backup, object }: BackupObject): Promise<void> {
  const labels = {
    [LABELS.policy]: policyLabels(backup.spec.policy)[LABELS.policy] ?? '',
    [LABELS.type]: backup.spec.type,
  };
  const current = object.metadata.labels ?? {};
  if (Object.entries(labels).every(([key, value]) => current[key] === value)) return;
  const namespace = object.metadata.namespace ?? '';
  const { name } = object.metadata;
  await input.client.request({
    verb: 'patch',
    path: resourcePath(RESOURCES.backup, { namespace, name }),
    body: { metadata: { labels } },
    contentType: 'application/merge-patch+json',
    what: `label Backup ${namespace}/${name} with its policy`,
  });
}

async function runOnDemand(input: OnDemandInput, entry: BackupObject): Promise<void> {
  const { backup, object } = entry;
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

/**
 * Labels the policy's Backups that lack its labels, starts the Jobs of new on-demand Backups
 * and records Jobs that failed; returns how many on-demand Backups are pending.
 */
export async function reconcileOnDemandBackups(
  input: OnDemandInput,
  backups: readonly BackupObject[],
): Promise<number> {
  for (const entry of backups) {
    if (entry.object.metadata.deletionTimestamp === undefined) await labelBackup(input, entry);
  }
  const pending = backups.filter(
    ({ backup, object }) =>
      backup.spec.line === undefined &&
      object.metadata.deletionTimestamp === undefined &&
      !isEndPhase(backup.status?.phase),
  );
  for (const entry of pending) await runOnDemand(input, entry);
  return pending.length;
}
