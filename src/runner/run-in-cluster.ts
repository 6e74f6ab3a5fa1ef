/**
 * A run inside a cluster (`--policy NAMESPACE/NAME`), binary or logical: the policy, its
 * Secrets and pods read with the runner's own service account, runs of one policy and type
 * queued on a Lease, and the run recorded in a `Backup` object whose status says what happened.
 */
import type { Logger } from 'pino';
import type { BackupPolicy, BackupType, LineName } from '../api/index.js';
import {
  adoptBackupRecord,
  type BackupRecord,
  COMMITTED_RECORD_RETRY,
  createBackupRecord,
  updateUntilRecorded,
} from '../kube/backup-record.js';
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
import { clusterRecipientReader, resolveRecipients } from './encryption-recipients.js';
import { RunError } from './errors.js';
import { admitTrigger, retentionLineOf } from './placement.js';
import { followBucketAfterRun } from './prune-records.js';
import { failedStatusOf, runningStatusOf, statusOf } from './record-status.js';
import { type BinaryRunInput, runBinaryBackup } from './run-binary-backup.js';
import { runLogicalBackup } from './run-logical-backup.js';
import type { RunCompletedResult, RunFence, RunResult, RunSkippedResult } from './run-types.js';
import { triggerTimeOf } from './trigger-time.js';

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
  /** `--at`: the trigger time, instead of the run's Job's. */
  readonly atMs: number | undefined;
  /** The run's pod (its hostname), through which it finds its Job's trigger time. */
  readonly podName: string | undefined;
  readonly localDir: string;
  readonly pgRoot: string | undefined;
  /** Unique per run: the Lease holder's identity. */
  readonly identity: string;
  readonly requestChecksumCalculation: RequestChecksumCalculation;
  readonly logger: Logger;
  readonly clock: () => number;
};

/**
 * A committed backup whose Backup could not be written: the run fails, but its Backup must not
 * be recorded Failed, since the backup is good.
 */
class CommittedButNotRecordedError extends RunError {}

/** What the run learnt before it resolved its inputs: its trigger, Job and the Lease it holds. */
interface RunContext {
  readonly triggeredAtMs: number;
  /** The Job's `activeDeadlineSeconds`, when the run knows its Job. */
  readonly runDeadlineSeconds: number | undefined;
  readonly fence: RunFence;
}

/** What a person runs to take this policy's backup now. */
function onDemandCommandOf(input: ClusterRunInput): string {
  return `pgbackup backup --policy ${input.namespace}/${input.policy} --type ${input.type} (or create a Backup object)`;
}

async function resolveRunInput(
  input: ClusterRunInput,
  policy: BackupPolicy,
  context: RunContext,
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
  const { encryption } = spec.storage ?? {};
  const recipients =
    encryption === undefined
      ? undefined
      : await resolveRecipients(encryption, clusterRecipientReader(input.client, input.namespace));
  const local =
    input.type === 'binary' && spec.binary.local !== undefined && input.line === 'daily'
      ? { store: createLocalStore(input.localDir), keep: spec.binary.local.keep }
      : undefined;
  return {
    namespace: input.namespace,
    policy: input.policy,
    spec,
    line: input.line,
    triggeredAtMs: context.triggeredAtMs,
    runDeadlineSeconds: context.runDeadlineSeconds,
    onDemandCommand: onDemandCommandOf(input),
    fence: context.fence,
    endpoints,
    selection,
    credentials,
    replicationCredentials,
    remote,
    encryption: recipients,
    local,
    pgRoot: input.pgRoot,
    logger: input.logger,
    clock: input.clock,
  };
}

/**
 * The run's place in the queue: the most valuable line first, as losing it costs the most (a
 * yearly backup is one of two for a year); on-demand backups after every line, which must all
 * finish within their runs' deadline on a night when several fire together.
 */
const QUEUE_PRIORITY: Readonly<Record<LineName | 'on-demand', number>> = {
  yearly: 5,
  quarterly: 4,
  monthly: 3,
  weekly: 2,
  daily: 1,
  'on-demand': 0,
};

/**
 * Records a committed backup Completed, outlasting an API server outage of minutes.
 *
 * @throws CommittedButNotRecordedError saying the backup is committed, when it still cannot
 */
async function recordCommitted(
  input: ClusterRunInput,
  policy: BackupPolicy,
  record: BackupRecord,
  result: RunCompletedResult,
): Promise<void> {
  const status = statusOf(result, policy, input.clock());
  try {
    await updateUntilRecorded(record, status, COMMITTED_RECORD_RETRY, (error, delayMs) =>
      input.logger.warn(
        { err: error, retryInMs: delayMs, key: result.key },
        'the backup is committed; could not record it in its Backup yet, retrying',
      ),
    );
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new CommittedButNotRecordedError(
      `the backup IS committed at ${result.key}; only recording it in Backup ${input.namespace}/${record.name} failed (${reason}): it is listed by \`pgbackup list\`, and the Backup stays as it was`,
      { cause: error },
    );
  }
}

async function runRecorded(
  input: ClusterRunInput,
  policy: BackupPolicy,
  record: BackupRecord,
  context: Omit<RunContext, 'fence'>,
): Promise<RunResult> {
  const { triggeredAtMs } = context;
  // Runs of this policy and type take turns here; a run delayed by the queue still belongs
  // to its trigger's period, and is no later for the wait.
  const lease = await acquireLease({
    client: input.client,
    namespace: input.namespace,
    name: `${input.policy}-${input.type}`,
    identity: input.identity,
    priority: QUEUE_PRIORITY[input.line ?? 'on-demand'],
    triggeredAtMs,
    logger: input.logger,
  });
  try {
    const runInput = await resolveRunInput(input, policy, { ...context, fence: lease });
    const result =
      input.type === 'binary' ? await runBinaryBackup(runInput) : await runLogicalBackup(runInput);
    if (result.outcome !== 'completed') {
      await record.update(statusOf(result, policy, input.clock()));
    } else {
      await recordCommitted(input, policy, record, result);
      // The Backups of what rotation pruned go too, so they and the bucket agree.
      const { client, namespace, type, logger } = input;
      const { remote } = runInput;
      const run = { client, namespace, policy: input.policy, type, spec: policy.spec, remote };
      await followBucketAfterRun({ ...run, pruned: result.pruned, logger });
    }
    return result;
  } finally {
    // Never fails the run (a committed backup stays Completed): an unreleased Lease expires.
    await lease.release();
  }
}

/** The Backup a run records itself in: the on-demand one it was started for, or a new one. */
async function recordOf(input: ClusterRunInput, triggeredAtMs: number): Promise<BackupRecord> {
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
      `${input.policy}-${input.type}-${line}-${formatKeyTimestamp(triggeredAtMs).toLowerCase()}`,
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

/** A line's run as its trigger decides it: skipped quietly, refused (recorded), or admitted. */
function admissionOf(
  input: ClusterRunInput,
  policy: BackupPolicy,
  triggeredAtMs: number,
): { readonly skipped?: RunSkippedResult; readonly refusal?: unknown } {
  try {
    const line = retentionLineOf({ ...input, line: input.line, spec: policy.spec }, input.type);
    if (line === undefined) return {};
    const decision = admitTrigger(
      { spec: policy.spec, triggeredAtMs, onDemandCommand: onDemandCommandOf(input) },
      line,
    );
    return 'outcome' in decision ? { skipped: decision } : {};
  } catch (error) {
    return { refusal: error };
  }
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
  const { triggeredAtMs, source, runDeadlineSeconds } = await triggerTimeOf({
    ...input,
    startedAtMs,
  });
  input.logger.info({ triggeredAt: new Date(triggeredAtMs).toISOString(), source }, 'trigger time');
  // Decided from the trigger and the policy alone, before any other I/O: a day the line
  // skips leaves no Backup, connects to nothing and exits 0; a late trigger is recorded Failed.
  const admission = admissionOf(input, policy, triggeredAtMs);
  if (admission.skipped !== undefined) {
    input.logger.info({ reason: admission.skipped.reason }, admission.skipped.message);
    return admission.skipped;
  }
  const record = await recordOf(input, triggeredAtMs);
  try {
    if (admission.refusal !== undefined) throw admission.refusal;
    await record.update(runningStatusOf(startedAtMs));
    return await runRecorded(input, policy, record, { triggeredAtMs, runDeadlineSeconds });
  } catch (error) {
    // A committed backup is never recorded Failed; its error says it is committed.
    if (error instanceof CommittedButNotRecordedError) throw error;
    await record
      .update(failedStatusOf(error, input.clock()))
      .catch((recordError: unknown) =>
        input.logger.error({ err: recordError }, 'could not record the failure in the Backup'),
      );
    throw error;
  }
}
