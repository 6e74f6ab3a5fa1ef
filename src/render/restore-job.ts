/**
 * What a `Restore` wants: the Job that restores a binary backup (or an instant) of its policy
 * into a PersistentVolumeClaim, and the claim itself when the Restore gives a size.
 *
 * The Job runs the drill image (the runtime image carries no `postgres`, and a point-in-time
 * restore runs its recovery inside the Job: the claim then holds a promoted data directory any
 * PostgreSQL image can start, with no `restore_command` that needs pgbackup), as the policy's
 * runner with the restricted profile, and is owned by the Restore. The claim is owned by
 * nobody: it must outlive the Restore, which only records how it was filled.
 */
import {
  API_VERSION,
  type BackupPolicy,
  RESTORE_KIND,
  type Restore,
  type RestoreSpec,
} from '../api/index.js';
import { LABELS, policyLabels } from './labels.js';
import { type Manifest, ownerReferenceOf } from './manifest.js';
import { boundedName, LABEL_VALUE_MAX } from './object-name.js';
import type { RunSettings } from './render-cron-jobs.js';
import { identityArgsOf, renderRunnerPodSpec } from './runner-pod.js';
import { runnerServiceAccountNameOf } from './runner-rbac.js';

/** Where the Job mounts the claim. */
export const RESTORE_MOUNT_PATH = '/restore';

/**
 * The data directory inside the claim: a subdirectory, as most images expect (a volume's root
 * may hold `lost+found`, which PostgreSQL refuses in a data directory).
 */
export const RESTORE_DATA_DIR = `${RESTORE_MOUNT_PATH}/pgdata`;

/** The label naming the Restore on its Job, its pod and a claim it created. */
export const RESTORE_LABEL = 'pgbackup.dev/restore';

/** `<restore>-restore`, cut to 63 characters (the Job controller labels its pods with it). */
export function restoreJobNameOf(restoreName: string): string {
  return boundedName(`${restoreName}-restore`, LABEL_VALUE_MAX);
}

/** The options of `pgbackup restore` that choose what a Restore's spec chose. */
export function restoreChoiceArgs(spec: RestoreSpec): string[] {
  if (spec.backup !== undefined) return ['--backup', spec.backup];
  if (spec.line !== undefined) return ['--line', spec.line];
  if (spec.targetTime !== undefined) return ['--target-time', spec.targetTime];
  if (spec.targetLsn !== undefined) return ['--target-lsn', spec.targetLsn];
  if (spec.targetLatest === true) return ['--target-latest'];
  return [];
}

/** The inputs of {@link renderRestoreJob}. */
export interface RenderRestoreJobInput {
  readonly restore: Restore;
  /** The Restore's `metadata.uid`, for the owner reference. */
  readonly restoreUid: string;
  readonly policy: BackupPolicy;
  readonly settings: RunSettings;
}

/** The Job that restores into the claim. */
export function renderRestoreJob(input: RenderRestoreJobInput): Manifest {
  const { restore, policy, settings } = input;
  const restoreName = restore.metadata.name ?? '';
  const namespace = restore.metadata.namespace ?? '';
  const { spec } = restore;
  const labels = {
    ...policyLabels(spec.policy),
    [LABELS.component]: 'restore',
    [RESTORE_LABEL]: boundedName(restoreName, LABEL_VALUE_MAX),
  };
  const podSpec = renderRunnerPodSpec({
    policy,
    // The drill image: the restore's recovery runs the backup's own major of `postgres`.
    defaultImage: settings.verifyImage,
    serviceAccountName: runnerServiceAccountNameOf(spec.policy),
    args: [
      'restore',
      '--policy',
      `${namespace}/${spec.policy}`,
      '--type',
      spec.type,
      ...restoreChoiceArgs(spec),
      '--target-dir',
      RESTORE_DATA_DIR,
      '--for-restore',
      restoreName,
      ...identityArgsOf(policy),
    ],
    mountLocalCopy: false,
    mountIdentity: true,
  }) as RestorePodSpec;
  const owner = { apiVersion: API_VERSION, kind: RESTORE_KIND, name: restoreName, namespace };
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: {
      name: restoreJobNameOf(restoreName),
      namespace,
      labels,
      ownerReferences: [ownerReferenceOf({ ...owner, uid: input.restoreUid })],
    },
    spec: {
      // A restore that failed left the claim to be looked at, not to be written again.
      backoffLimit: 0,
      activeDeadlineSeconds: settings.runDeadlineSeconds,
      template: { metadata: { labels }, spec: withClaim(podSpec, spec.pvc.name) },
    },
  };
}

interface RestorePodSpec {
  readonly containers: { readonly volumeMounts: readonly unknown[] }[];
  readonly volumes: readonly unknown[];
  readonly [field: string]: unknown;
}

/** The runner's pod spec with the claim mounted at {@link RESTORE_MOUNT_PATH}. */
function withClaim(podSpec: RestorePodSpec, claimName: string): RestorePodSpec {
  return {
    ...podSpec,
    containers: podSpec.containers.map((container) => ({
      ...container,
      volumeMounts: [...container.volumeMounts, { name: 'restore', mountPath: RESTORE_MOUNT_PATH }],
    })),
    volumes: [...podSpec.volumes, { name: 'restore', persistentVolumeClaim: { claimName } }],
  };
}

/**
 * The claim a Restore with `spec.pvc.size` creates when it does not exist: ReadWriteOnce,
 * labelled with the Restore, and owned by nobody (deleting the Restore keeps the data).
 */
export function renderRestoreClaim(restore: Restore): Manifest {
  const { pvc } = restore.spec;
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: {
      name: pvc.name,
      namespace: restore.metadata.namespace ?? '',
      labels: { [RESTORE_LABEL]: boundedName(restore.metadata.name ?? '', LABEL_VALUE_MAX) },
      ownerReferences: [],
    },
    spec: {
      accessModes: ['ReadWriteOnce'],
      resources: { requests: { storage: pvc.size } },
      ...(pvc.storageClassName === undefined ? {} : { storageClassName: pvc.storageClassName }),
    },
  };
}
