/**
 * The Job of an on-demand backup: a `Backup` created by a person (no line) runs once, with
 * the same pod template as the policy's CronJobs, and is owned by the Backup so deleting
 * the Backup deletes its Job.
 */
import { API_VERSION, BACKUP_KIND, type Backup, type BackupPolicy } from '../api/index.js';
import { LABELS, policyLabels } from './labels.js';
import { type Manifest, ownerReferenceOf } from './manifest.js';
import { boundedName, LABEL_VALUE_MAX } from './object-name.js';
import type { RunSettings } from './render-cron-jobs.js';
import { renderRunnerPodSpec } from './runner-pod.js';
import { runnerServiceAccountNameOf } from './runner-rbac.js';

/** The inputs of {@link renderBackupJob}. */
export interface RenderBackupJobInput {
  readonly backup: Backup;
  /** The Backup's `metadata.uid`, for the owner reference. */
  readonly backupUid: string;
  readonly policy: BackupPolicy;
  readonly settings: RunSettings;
}

/** `<backup>-run`, cut to 63 characters (the Job controller labels its pods with it). */
export function backupJobNameOf(backupName: string): string {
  return boundedName(`${backupName}-run`, LABEL_VALUE_MAX);
}

/** The Job that takes an on-demand backup. */
export function renderBackupJob(input: RenderBackupJobInput): Manifest {
  const { backup, policy, settings } = input;
  const backupName = backup.metadata.name ?? '';
  const namespace = backup.metadata.namespace ?? '';
  const name = backupJobNameOf(backupName);
  const labels = {
    ...policyLabels(backup.spec.policy),
    [LABELS.type]: backup.spec.type,
    [LABELS.backup]: boundedName(backupName, LABEL_VALUE_MAX),
  };
  const podSpec = renderRunnerPodSpec({
    policy,
    defaultImage: settings.defaultImage,
    serviceAccountName: runnerServiceAccountNameOf(backup.spec.policy),
    args: [
      'run',
      '--policy',
      `${namespace}/${backup.spec.policy}`,
      '--type',
      backup.spec.type,
      '--backup',
      backupName,
    ],
    mountLocalCopy: false,
  });
  const owner = { apiVersion: API_VERSION, kind: BACKUP_KIND, name: backupName, namespace };
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: {
      name,
      namespace,
      labels,
      ownerReferences: [ownerReferenceOf({ ...owner, uid: input.backupUid })],
    },
    spec: {
      backoffLimit: 0,
      activeDeadlineSeconds: settings.runDeadlineSeconds,
      template: { metadata: { labels }, spec: podSpec },
    },
  };
}
