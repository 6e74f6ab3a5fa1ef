/**
 * The status a policy should have: conditions a person can act on, the CronJobs it owns
 * and the slot table. The controller compares it with the current status and writes only
 * a difference.
 */
import type {
  Backup,
  BackupPolicyStatus,
  Condition,
  CronJobStatus,
  ReplicationSlotStatus,
  SlotStatus,
} from '../api/index.js';
import {
  CONTINUOUS_CONDITION,
  type ContinuousConditionInput,
  continuousConditionOf,
} from './continuous-condition.js';
import type { PolicyProblem } from './policy-validity.js';

/** What reconciling the policy came to. */
export type ReconcileOutcome =
  | {
      readonly kind: 'applied';
      readonly cronJobs: readonly CronJobStatus[];
      readonly slots: readonly SlotStatus[];
      readonly suspended: boolean;
    }
  | { readonly kind: 'invalid'; readonly problem: PolicyProblem }
  /** Applying failed (the API server refused or could not be reached); retried with backoff. */
  | { readonly kind: 'failed'; readonly message: string };

/** The inputs of {@link renderPolicyStatus}. */
export interface RenderStatusInput {
  readonly generation: number;
  readonly previous: BackupPolicyStatus | undefined;
  readonly outcome: ReconcileOutcome;
  /** The policy's Backups, for LastBackupSucceeded. */
  readonly backups: readonly Backup[];
  /** Now, as an RFC 3339 timestamp: the transition time of conditions that change. */
  readonly now: string;
  /** The policy's replication slot on the primary, as last seen; absent when it has none. */
  readonly replicationSlot?: ReplicationSlotStatus | undefined;
  /**
   * What the `Continuous` condition is judged from; absent (a policy not yet valid), the
   * condition last set stands.
   */
  readonly continuous?: ContinuousConditionInput | undefined;
}

type ConditionFields = Pick<Condition, 'type' | 'status' | 'reason' | 'message'>;

/** Sets a condition, keeping its transition time unless its status changed. */
function conditionOf(input: RenderStatusInput, fields: ConditionFields): Condition {
  const previous = input.previous?.conditions?.find((condition) => condition.type === fields.type);
  const lastTransitionTime =
    previous !== undefined && previous.status === fields.status
      ? previous.lastTransitionTime
      : input.now;
  return { ...fields, observedGeneration: input.generation, lastTransitionTime };
}

function finishedAt(backup: Backup): string {
  return backup.status?.completedAt ?? '';
}

/** The newest Backup that finished (Completed or Failed), scheduled or on demand. */
export function latestFinishedBackup(backups: readonly Backup[]): Backup | undefined {
  return backups
    .filter((backup) => backup.status?.phase === 'Completed' || backup.status?.phase === 'Failed')
    .sort((left, right) => finishedAt(right).localeCompare(finishedAt(left)))[0];
}

function lastBackupFields(backups: readonly Backup[]): ConditionFields {
  const type = 'LastBackupSucceeded';
  const latest = latestFinishedBackup(backups);
  if (latest === undefined) {
    return {
      type,
      status: 'Unknown',
      reason: 'NoBackupYet',
      message: 'No backup has finished yet.',
    };
  }
  const name = latest.metadata.name ?? '';
  if (latest.status?.phase === 'Completed') {
    return {
      type,
      status: 'True',
      reason: 'BackupCompleted',
      message: `Backup "${name}" completed.`,
    };
  }
  const detail = latest.status?.message ?? 'no message was recorded';
  return {
    type,
    status: 'False',
    reason: 'BackupFailed',
    message: `Backup "${name}" failed: ${detail}`,
  };
}

function readyFields(input: RenderStatusInput): ConditionFields {
  const { outcome } = input;
  if (outcome.kind === 'failed') {
    // What was applied before is still in place: Ready stays as it was.
    const previous = input.previous?.conditions?.find((condition) => condition.type === 'Ready');
    return previous !== undefined
      ? {
          type: 'Ready',
          status: previous.status,
          reason: previous.reason,
          message: previous.message,
        }
      : { type: 'Ready', status: 'Unknown', reason: 'Reconciling', message: 'Not applied yet.' };
  }
  if (outcome.kind === 'invalid') {
    return { type: 'Ready', status: 'False', ...outcome.problem };
  }
  if (outcome.suspended) {
    return {
      type: 'Ready',
      status: 'True',
      reason: 'Suspended',
      message: 'Scheduled backups are suspended (spec.suspend); set it to false to resume them.',
    };
  }
  return {
    type: 'Ready',
    status: 'True',
    reason: 'Scheduled',
    message: `${outcome.cronJobs.length} CronJob(s) schedule this policy's backups.`,
  };
}

function reconciledFields(outcome: ReconcileOutcome): ConditionFields {
  if (outcome.kind === 'failed') {
    return {
      type: 'Reconciled',
      status: 'False',
      reason: 'ApplyFailed',
      message: `${outcome.message} The controller retries with backoff; fix what the message names (often spec.jobTemplate).`,
    };
  }
  if (outcome.kind === 'invalid') {
    return {
      type: 'Reconciled',
      status: 'False',
      reason: outcome.problem.reason,
      message: 'The policy is invalid, so nothing was changed; see the Ready condition.',
    };
  }
  return {
    type: 'Reconciled',
    status: 'True',
    reason: 'Applied',
    message: 'The CronJobs and the runner identity match the policy.',
  };
}

function continuousFieldsOf(
  input: RenderStatusInput,
  continuous: ContinuousConditionInput,
): Condition | undefined {
  const fields = continuousConditionOf(continuous);
  return fields === undefined ? undefined : conditionOf(input, fields);
}

/**
 * The status of a policy after a reconcile: everything but `continuous`, which its WAL
 * receiver writes under a field manager of its own (so neither write clobbers the other).
 */
export function renderPolicyStatus(input: RenderStatusInput): BackupPolicyStatus {
  const { outcome, previous } = input;
  const continuous =
    input.continuous === undefined
      ? previous?.conditions?.find((condition) => condition.type === CONTINUOUS_CONDITION)
      : continuousFieldsOf(input, input.continuous);
  const conditions = [
    conditionOf(input, readyFields(input)),
    conditionOf(input, reconciledFields(outcome)),
    conditionOf(input, lastBackupFields(input.backups)),
    ...(continuous !== undefined ? [continuous] : []),
  ];
  const lastBackupTime = input.backups
    .filter((backup) => backup.status?.phase === 'Completed')
    .map(finishedAt)
    .sort()
    .at(-1);
  // An invalid policy keeps the CronJobs and slots last observed: they are still there.
  const cronJobs = outcome.kind === 'applied' ? [...outcome.cronJobs] : previous?.cronJobs;
  const slots = outcome.kind === 'applied' ? [...outcome.slots] : previous?.slots;
  return {
    observedGeneration: input.generation,
    conditions,
    ...(cronJobs !== undefined ? { cronJobs } : {}),
    ...(slots !== undefined ? { slots } : {}),
    ...(input.replicationSlot !== undefined ? { replicationSlot: input.replicationSlot } : {}),
    ...(lastBackupTime !== undefined && lastBackupTime !== '' ? { lastBackupTime } : {}),
  };
}
