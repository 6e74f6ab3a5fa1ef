/**
 * A run inside a cluster (`--policy NAMESPACE/NAME`), binary or logical: the policy, its
 * Secrets and pods read with the runner's own service account, runs of one policy and type
 * queued on a Lease, and the run recorded in a `Backup` object whose status says what happened.
 */
import type { Logger } from 'pino';
import type { BackupPolicy, BackupType, LineName } from '../api/index.js';
import { adoptBackupRecord, type BackupRecord, createBackupRecord } from '../kube/backup-record.js';
import type { KubeClient } from '../kube/kube-client.js';
import { acquireLease } from '../kube/lease-queue.js';
import { boundedName, LABELS, policyLabels } from '../render/index.js';
import {
  createLocalStore,
  formatKeyTimestamp,
  type RequestChecksumCalculation,
} from '../storage/index.js';
import {
  listTargetEndpoints,
  openPolicyBucket,
  readCredentials,
  readPolicy,
  s3SpecOf,
} from './cluster-sources.js';
import { RunError } from './errors.js';
import { followBucketAfterRun } from './prune-records.js';
import { failedStatusOf, runningStatusOf, statusOf } from './record-status.js';
import { type BinaryRunInput, runBinaryBackup } from './run-binary-backup.js';
import { runLogicalBackup } from './run-logical-backup.js';
import type { RunResult } from './run-types.js';

/** Longest name of a Backup (a DNS subdomain). */
const OBJECT_NAME_MAX = 253;

/**
 * Which backup a run takes: a line's, recorded in a new Backup, or the on-demand one a user's
 * Backup asks for (no line). Never neither: a run without a line is an on-demand backup, and
 * only its own Backup may record it.
 */
export type ClusterRunSubject =
  | { readonly line: LineName; readonly backup?: undefined }
  | { readonly line?: undefined; readonly backup: string };

/** What {@link runInCluster} needs. */
export type ClusterRunInput = ClusterRunSubject & {
  readonly client: KubeClient;
  readonly namespace: string;
  readonly policy: string;
  readonly type: BackupType;
  readonly atMs: number | undefined;
  readonly localDir: string;
  readonly pgRoot: string | undefined;
  /** Unique per run: the Lease holder's identity. */
  readonly identity: string;
  readonly requestChecksumCalculation: RequestChecksumCalculation;
  readonly logger: Logger;
  readonly clock: () => number;
};

async function resolveRunInput(
  input: ClusterRunInput,
  policy: BackupPolicy,
): Promise<BinaryRunInput> {
  const { spec } = policy;
  // A policy without a bucket fails before any Secret is read.
  s3SpecOf(input, policy);
  const credentials = await readCredentials(
    input.client,
    input.namespace,
    spec.target.credentials.secretName,
  );
  // Only pg_basebackup logs in for replication; a logical run does not read that Secret.
  const replicationSecret = spec.target.replicationCredentials?.secretName;
  const replicationCredentials =
    replicationSecret === undefined || input.type === 'logical'
      ? credentials
      : await readCredentials(input.client, input.namespace, replicationSecret);
  const { endpoints, selection } = await listTargetEndpoints(input.client, policy);
  const { store: remote } = await openPolicyBucket(input, policy);
  const local =
    input.type === 'binary' && spec.binary.local !== undefined && input.line === 'daily'
      ? { store: createLocalStore(input.localDir), keep: spec.binary.local.keep }
      : undefined;
  return {
    namespace: input.namespace,
    policy: input.policy,
    spec,
    line: input.line,
    atMs: input.atMs,
    endpoints,
    selection,
    credentials,
    replicationCredentials,
    remote,
    local,
    pgRoot: input.pgRoot,
    logger: input.logger,
    clock: input.clock,
  };
}

async function runRecorded(
  input: ClusterRunInput,
  policy: BackupPolicy,
  record: BackupRecord,
): Promise<RunResult> {
  // Runs of this policy and type take turns here; a run delayed by the queue still belongs
  // to its fire's period (the retention engine decides from the fire instant).
  const lease = await acquireLease({
    client: input.client,
    namespace: input.namespace,
    name: `${input.policy}-${input.type}`,
    identity: input.identity,
    logger: input.logger,
  });
  try {
    const runInput = await resolveRunInput(input, policy);
    const result =
      input.type === 'binary' ? await runBinaryBackup(runInput) : await runLogicalBackup(runInput);
    await record.update(statusOf(result, policy, input.clock()));
    if (result.outcome === 'completed') {
      // The Backups of what rotation pruned go too, so they and the bucket agree.
      const { client, namespace, type, logger } = input;
      const { remote } = runInput;
      const run = { client, namespace, policy: input.policy, type, spec: policy.spec, remote };
      await followBucketAfterRun({ ...run, pruned: result.pruned, logger });
    }
    return result;
  } finally {
    await lease.release();
  }
}

/** The Backup a run records itself in: the on-demand one it was started for, or a new one. */
async function recordOf(input: ClusterRunInput, startedAtMs: number): Promise<BackupRecord> {
  if (input.backup !== undefined) {
    const { backup, record } = await adoptBackupRecord(input.client, input.namespace, input.backup);
    if (backup.spec?.policy !== input.policy || backup.spec.type !== input.type) {
      throw new RunError(
        `Backup ${input.namespace}/${input.backup} is not a ${input.type} backup of BackupPolicy ${input.policy} (its spec says ${backup.spec?.type} of ${backup.spec?.policy}): run it with its own policy and type`,
      );
    }
    return record;
  }
  // Without a Backup of its own the run is a line's (ClusterRunSubject): never an on-demand one.
  const { line } = input;
  return createBackupRecord({
    client: input.client,
    namespace: input.namespace,
    name: boundedName(
      `${input.policy}-${input.type}-${line}-${formatKeyTimestamp(input.atMs ?? startedAtMs).toLowerCase()}`,
      OBJECT_NAME_MAX,
    ),
    policy: input.policy,
    type: input.type,
    line,
    // The policy's label, so `kubectl get backups -l pgbackup.dev/policy=NAME` lists its runs.
    labels: {
      [LABELS.policy]: policyLabels(input.policy)[LABELS.policy] ?? '',
      [LABELS.type]: input.type,
      [LABELS.line]: line,
    },
  });
}

/**
 * Runs one backup of a line (or the on-demand one) of an in-cluster policy and records it in a
 * Backup.
 *
 * @throws the run's error, after recording it as phase Failed with the same message
 */
export async function runInCluster(input: ClusterRunInput): Promise<RunResult> {
  const policy = await readPolicy(input.client, input.namespace, input.policy);
  const startedAtMs = input.clock();
  const record = await recordOf(input, startedAtMs);
  await record.update(runningStatusOf(startedAtMs));
  try {
    return await runRecorded(input, policy, record);
  } catch (error) {
    await record
      .update(failedStatusOf(error, input.clock()))
      .catch((recordError: unknown) =>
        input.logger.error({ err: recordError }, 'could not record the failure in the Backup'),
      );
    throw error;
  }
}
