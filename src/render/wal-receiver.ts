/**
 * The WAL receiver of a policy with continuous protection (DESIGN.md §5): a one-replica
 * Deployment `<policy>-wal` running `pgbackup wal-receive` and a PersistentVolumeClaim
 * `<policy>-wal-spool` for its spool, both owned by the policy. A suspended policy, or one
 * without `spec.continuous.enabled`, wants neither: the controller deletes them, and once no
 * receiver pod is left, drops the receiver's slot so it can never fill the primary's disk.
 */
import type { BackupPolicy } from '../api/index.js';
import { LABELS, policyLabels } from './labels.js';
import { type Manifest, type Owner, ownerReferenceOf } from './manifest.js';
import { boundedName, LABEL_VALUE_MAX, shortHashOf } from './object-name.js';
import {
  imageOf,
  placementOf,
  RUNNER_CONTAINER_SECURITY_CONTEXT,
  RUNNER_POD_SECURITY_CONTEXT,
  resourcesOf,
} from './runner-pod.js';
import { runnerServiceAccountNameOf } from './runner-rbac.js';

/** The value of `app.kubernetes.io/component` on the receiver's objects and pods. */
export const WAL_RECEIVER_COMPONENT = 'wal-receiver';

/** Where the receiver's spool volume is mounted. */
export const WAL_SPOOL_MOUNT_PATH = '/var/lib/pgbackup/wal-spool';

/**
 * The port of the receiver's /metrics and /healthz (the container port named `metrics`):
 * the port Prometheus' postgres_exporter also uses, since the receiver is a PostgreSQL client
 * exporting per-server figures, and it never shares a pod with one.
 */
export const WAL_RECEIVER_METRICS_PORT = 9187;

/**
 * How long a stopping receiver has before the kubelet kills it: time to stop pg_receivewal
 * and upload what the spool holds (the completed segments and the unfinished one).
 */
export const WAL_RECEIVER_GRACE_SECONDS = 60;

/**
 * `<policy>-wal`, cut to 47 characters: the ReplicaSet appends `-<10-character hash>` and its
 * pods another `-<5 characters>`, and the ReplicaSet's name is also a label value (63).
 */
export function walReceiverNameOf(policyName: string): string {
  return boundedName(`${policyName}-wal`, WAL_RECEIVER_NAME_MAX);
}

/**
 * The pod template's annotation holding a hash of what the receiver reads once at start (the
 * target, the storage and spec.continuous): a change to any of them rolls the Deployment, so
 * the running receiver never streams with settings the policy no longer has.
 */
export const WAL_RECEIVER_SETTINGS_ANNOTATION = 'pgbackup.dev/receiver-settings';

/**
 * V8's young generation capped at 1 MiB semi-spaces: the receiver streams 16 MiB segments
 * through zlib, and with the default (16 MiB semi-spaces) its peak RSS was 177 MiB over 60 s of
 * pgbench, 114 MiB with this (measured by the receiver's integration tests). Node reads it only
 * at start-up, so it goes in the environment (no secret: the pod still has no credentials in env).
 */
export const WAL_RECEIVER_NODE_OPTIONS = '--max-semi-space-size=1';

/** The longest Deployment name whose ReplicaSets and pods still fit in 63 characters. */
const WAL_RECEIVER_NAME_MAX = LABEL_VALUE_MAX - 16;

/** `<policy>-wal-spool`, cut to 63 characters. */
export function walSpoolClaimNameOf(policyName: string): string {
  return boundedName(`${policyName}-wal-spool`, LABEL_VALUE_MAX);
}

/** The labels of the receiver's objects and of its pods (which select them). */
export function walReceiverLabels(policyName: string): Record<string, string> {
  return { ...policyLabels(policyName), [LABELS.component]: WAL_RECEIVER_COMPONENT };
}

/** Whether the policy wants a receiver running now. */
export function wantsWalReceiver(policy: BackupPolicy): boolean {
  return policy.spec.continuous.enabled && !policy.spec.suspend;
}

/** The inputs of {@link renderWalReceiver}. */
export interface RenderWalReceiverInput {
  readonly policy: BackupPolicy;
  readonly owner: Owner;
  /** The image of the operator's release; `spec.jobTemplate.image` overrides it. */
  readonly defaultImage: string;
}

function renderSpoolClaim(input: RenderWalReceiverInput, labels: Record<string, string>) {
  const { owner } = input;
  const { spool } = input.policy.spec.continuous;
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: {
      name: walSpoolClaimNameOf(owner.name),
      namespace: owner.namespace,
      labels,
      ownerReferences: [ownerReferenceOf(owner)],
    },
    spec: {
      accessModes: ['ReadWriteOnce'],
      resources: { requests: { storage: spool.size } },
      ...(spool.storageClassName !== undefined ? { storageClassName: spool.storageClassName } : {}),
    },
  } satisfies Manifest;
}

function renderPodSpec(input: RenderWalReceiverInput): Record<string, unknown> {
  const { policy, owner } = input;
  const resources = resourcesOf(policy.spec.continuous.resources);
  const probe = (periodSeconds: number, failureThreshold: number) => ({
    httpGet: { path: '/healthz', port: 'metrics' },
    periodSeconds,
    failureThreshold,
    timeoutSeconds: 5,
  });
  return {
    serviceAccountName: runnerServiceAccountNameOf(owner.name),
    terminationGracePeriodSeconds: WAL_RECEIVER_GRACE_SECONDS,
    securityContext: RUNNER_POD_SECURITY_CONTEXT,
    ...placementOf(policy),
    containers: [
      {
        name: 'wal-receiver',
        image: imageOf(policy, input.defaultImage),
        args: [
          'wal-receive',
          '--policy',
          `${owner.namespace}/${owner.name}`,
          '--spool',
          WAL_SPOOL_MOUNT_PATH,
          '--metrics-address',
          `0.0.0.0:${WAL_RECEIVER_METRICS_PORT}`,
        ],
        // No credentials in env, as in the runner: the receiver reads the policy's Secrets
        // through the API. Only Node's memory setting.
        env: [{ name: 'NODE_OPTIONS', value: WAL_RECEIVER_NODE_OPTIONS }],
        ports: [{ name: 'metrics', containerPort: WAL_RECEIVER_METRICS_PORT, protocol: 'TCP' }],
        // Up to 2 minutes to start (the spool's backlog is listed before /healthz answers),
        // then restarted after 3 missed probes, 30 s.
        startupProbe: probe(5, 24),
        livenessProbe: probe(10, 3),
        ...(Object.keys(resources).length > 0 ? { resources } : {}),
        securityContext: RUNNER_CONTAINER_SECURITY_CONTEXT,
        volumeMounts: [
          { name: 'tmp', mountPath: '/tmp' },
          { name: 'spool', mountPath: WAL_SPOOL_MOUNT_PATH },
        ],
      },
    ],
    volumes: [
      { name: 'tmp', emptyDir: {} },
      { name: 'spool', persistentVolumeClaim: { claimName: walSpoolClaimNameOf(owner.name) } },
    ],
  };
}

/** A hash of the settings the receiver reads at start ({@link WAL_RECEIVER_SETTINGS_ANNOTATION}). */
export function receiverSettingsHashOf(policy: BackupPolicy): string {
  const { target, storage, continuous } = policy.spec;
  return shortHashOf(JSON.stringify({ target, storage, continuous }));
}

function renderDeployment(input: RenderWalReceiverInput, labels: Record<string, string>) {
  const { owner } = input;
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name: walReceiverNameOf(owner.name),
      namespace: owner.namespace,
      labels,
      ownerReferences: [ownerReferenceOf(owner)],
    },
    spec: {
      replicas: 1,
      // Never two receivers at once: they would share the slot (the second is refused while
      // the first streams) and the spool's ReadWriteOnce claim.
      strategy: { type: 'Recreate' },
      selector: { matchLabels: labels },
      template: {
        metadata: {
          labels,
          annotations: { [WAL_RECEIVER_SETTINGS_ANNOTATION]: receiverSettingsHashOf(input.policy) },
        },
        spec: renderPodSpec(input),
      },
    },
  } satisfies Manifest;
}

/**
 * The receiver's spool claim and Deployment, in the order they are needed; none when the policy
 * wants no receiver ({@link wantsWalReceiver}).
 */
export function renderWalReceiver(input: RenderWalReceiverInput): Manifest[] {
  if (!wantsWalReceiver(input.policy)) return [];
  const labels = walReceiverLabels(input.owner.name);
  return [renderSpoolClaim(input, labels), renderDeployment(input, labels)];
}
