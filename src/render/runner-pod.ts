/**
 * The pod template every run uses, scheduled or on demand: the runner image with its
 * arguments, no credentials at all (the runner reads the policy's Secrets through the API with
 * its own service account, which may read exactly those: runner-rbac.ts), and a security
 * context that passes the `restricted` Pod Security level.
 */
import { type BackupPolicy, runnerSecretNamesOf } from '../api/index.js';

/**
 * Where the drill's and the Restore's pods mount the one key of the identity Secret
 * (`spec.storage.encryption.identity`), read-only; backup and WAL receiver pods never mount it.
 */
export const IDENTITY_MOUNT_DIR = '/etc/pgbackup/identity';

/** The identity's file in {@link IDENTITY_MOUNT_DIR}, whatever the Secret's key is called. */
export const IDENTITY_FILE_PATH = `${IDENTITY_MOUNT_DIR}/identity.txt`;

/**
 * The mode of the mounted identity file: the owner's only. The kubelet makes it group-readable
 * for the pod's fsGroup (RUNNER_UID), which is how the runner's user, not the file's owner
 * (root), reads it; `--identity` accepts group-readable and refuses readable by others.
 */
export const IDENTITY_FILE_MODE = 0o400;

/** Where a binary daily run finds the local-copy volume. */
export const LOCAL_COPY_MOUNT_PATH = '/var/lib/pgbackup/local';

/** The user the image runs as (`USER 65532` in the Dockerfile). */
export const RUNNER_UID = 65532;

/** The pod security context of every pod the operator renders (`restricted` Pod Security). */
export const RUNNER_POD_SECURITY_CONTEXT = {
  runAsNonRoot: true,
  runAsUser: RUNNER_UID,
  runAsGroup: RUNNER_UID,
  fsGroup: RUNNER_UID,
  seccompProfile: { type: 'RuntimeDefault' },
} as const;

/** The container security context of every container the operator renders. */
export const RUNNER_CONTAINER_SECURITY_CONTEXT = {
  allowPrivilegeEscalation: false,
  readOnlyRootFilesystem: true,
  runAsNonRoot: true,
  capabilities: { drop: ['ALL'] },
  seccompProfile: { type: 'RuntimeDefault' },
} as const;

/** The inputs of {@link renderRunnerPodSpec}. */
export interface RunnerPodInput {
  readonly policy: BackupPolicy;
  /** The image of the operator's release; `spec.jobTemplate.image` overrides it. */
  readonly defaultImage: string;
  readonly serviceAccountName: string;
  /** Arguments after the image's entrypoint (`pgbackup`). */
  readonly args: readonly string[];
  /** Mount the policy's local-copy volume (binary daily runs). */
  readonly mountLocalCopy: boolean;
  /**
   * Where to mount a work volume (the restore drill's copy of the backup): an emptyDir with no
   * size limit, as the copy is as large as the database and the node's disk bounds it.
   */
  readonly workVolumePath?: string | undefined;
  /**
   * Mount the identity Secret's key at {@link IDENTITY_FILE_PATH} (restore drills and Restores
   * only, which then pass {@link identityArgsOf}); nothing when the policy names no identity.
   */
  readonly mountIdentity?: boolean;
}

/** `--identity FILE` for the pods that read backups, when the policy names an identity. */
export function identityArgsOf(policy: BackupPolicy): string[] {
  return policy.spec.storage?.encryption?.identity === undefined
    ? []
    : ['--identity', IDENTITY_FILE_PATH];
}

/** The identity Secret as a volume holding only its key, when asked for and named. */
function identityVolumeOf(input: RunnerPodInput) {
  const ref = input.policy.spec.storage?.encryption?.identity?.secretKeyRef;
  if (input.mountIdentity !== true || ref === undefined) return [];
  const file = IDENTITY_FILE_PATH.slice(IDENTITY_MOUNT_DIR.length + 1);
  return [
    {
      volume: {
        name: 'age-identity',
        secret: {
          secretName: ref.name,
          items: [{ key: ref.key, path: file }],
          defaultMode: IDENTITY_FILE_MODE,
        },
      },
      mountPath: IDENTITY_MOUNT_DIR,
      readOnly: true,
    },
  ];
}

/**
 * Every Secret the runner reads (the logins, the bucket's keys, recipients' Secrets), in a
 * stable order and without repeats; never the age identity's (src/api's runnerSecretNamesOf).
 */
export function secretNamesOf(policy: BackupPolicy): string[] {
  return runnerSecretNamesOf(policy.spec);
}

function volumesOf(input: RunnerPodInput) {
  const claimName = input.policy.spec.binary.local?.claimName;
  const wanted = [
    { volume: { name: 'tmp', emptyDir: {} }, mountPath: '/tmp' },
    ...(input.mountLocalCopy && claimName !== undefined
      ? [
          {
            volume: { name: 'local-copy', persistentVolumeClaim: { claimName } },
            mountPath: LOCAL_COPY_MOUNT_PATH,
          },
        ]
      : []),
    ...(input.workVolumePath === undefined
      ? []
      : [{ volume: { name: 'verify-work', emptyDir: {} }, mountPath: input.workVolumePath }]),
    ...identityVolumeOf(input),
  ];
  return {
    volumes: wanted.map(({ volume }) => volume),
    mounts: wanted.map((wanted) => ({
      name: wanted.volume.name,
      mountPath: wanted.mountPath,
      ...('readOnly' in wanted ? { readOnly: wanted.readOnly } : {}),
    })),
  };
}

/** Drops empty maps and lists so the applied object holds only what was asked for. */
export function resourcesOf(
  resources: BackupPolicy['spec']['jobTemplate']['resources'],
): Record<string, unknown> {
  const { requests, limits } = resources;
  return {
    ...(requests !== undefined && Object.keys(requests).length > 0 ? { requests } : {}),
    ...(limits !== undefined && Object.keys(limits).length > 0 ? { limits } : {}),
  };
}

/** The node selector and tolerations of `spec.jobTemplate`, when set. */
export function placementOf(policy: BackupPolicy): Record<string, unknown> {
  const { jobTemplate } = policy.spec;
  return {
    ...(Object.keys(jobTemplate.nodeSelector).length > 0
      ? { nodeSelector: jobTemplate.nodeSelector }
      : {}),
    ...(jobTemplate.tolerations.length > 0 ? { tolerations: jobTemplate.tolerations } : {}),
  };
}

/** The image of the policy's pods: `spec.jobTemplate.image`, or the release's. */
export function imageOf(policy: BackupPolicy, defaultImage: string): string {
  const { image } = policy.spec.jobTemplate;
  return image === '' ? defaultImage : image;
}

/**
 * V8's young generation capped at 1 MiB semi-spaces, as the WAL receiver's: the chunks a
 * backup streams through the runner die young, and with the default (16 MiB semi-spaces) they
 * and the memory they hold wait longer for a collection. bench/binary at 4 GiB: the runner's
 * peak RSS 167–179 MiB by default, 144–145 MiB with this; at 8 GiB 157–173 against 140–148
 * MiB, and whether it costs time there is not settled (docs/performance.md).
 * Node reads it only at start-up, so it goes in the environment (no secret).
 */
export const RUNNER_NODE_OPTIONS = '--max-semi-space-size=1';

/** The pod spec of one run of the runner. */
export function renderRunnerPodSpec(input: RunnerPodInput): Record<string, unknown> {
  const { jobTemplate } = input.policy.spec;
  const { volumes, mounts } = volumesOf(input);
  const resources = resourcesOf(jobTemplate.resources);
  return {
    serviceAccountName: input.serviceAccountName,
    // A failed run is retried by the next trigger (or a new Backup), not by the kubelet.
    restartPolicy: 'Never',
    securityContext: RUNNER_POD_SECURITY_CONTEXT,
    ...placementOf(input.policy),
    containers: [
      {
        name: 'runner',
        image: imageOf(input.policy, input.defaultImage),
        args: [...input.args],
        // No credentials in env: one path for them (the Secrets, read through the API), so no
        // copy of a password or key sits in the pod's environment, its spec or a crash dump.
        env: [{ name: 'NODE_OPTIONS', value: RUNNER_NODE_OPTIONS }],
        ...(Object.keys(resources).length > 0 ? { resources } : {}),
        securityContext: RUNNER_CONTAINER_SECURITY_CONTEXT,
        volumeMounts: mounts,
      },
    ],
    volumes,
  };
}
