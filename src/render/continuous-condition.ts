/**
 * The `Continuous` condition of a policy: what its WAL receiver last reported
 * (`status.continuous`, written by the receiver itself), judged with what only the controller
 * sees: whether the receiver's Deployment is available and how old the receiver's heartbeat
 * is. A receiver that died cannot say so itself; a heartbeat older than
 * {@link RECEIVER_HEARTBEAT_STALE_MS} says it for it.
 */
import type { Condition, ContinuousStatus } from '../api/index.js';

/** A receiver whose last report is older than this is taken for down. */
export const RECEIVER_HEARTBEAT_STALE_MS = 120_000;

/** The type of the condition. */
export const CONTINUOUS_CONDITION = 'Continuous';

/** The inputs of {@link continuousConditionOf}. */
export interface ContinuousConditionInput {
  /** `spec.continuous.enabled`. */
  readonly enabled: boolean;
  /** `spec.suspend`. */
  readonly suspended: boolean;
  /** `status.continuous`, as the receiver last wrote it. */
  readonly status: ContinuousStatus | undefined;
  /** The receiver's Deployment: its name, and whether it is available (undefined: not seen). */
  readonly deployment: { readonly name: string; readonly available: boolean | undefined };
  readonly nowMs: number;
}

type ConditionFields = Pick<Condition, 'type' | 'status' | 'reason' | 'message'>;

const DEFAULT_MESSAGES: Readonly<Record<string, string>> = {
  Starting:
    'The WAL receiver is starting: finding the primary, making its replication slot and resuming from the spool and the bucket.',
  SlotLost:
    "The WAL receiver's replication slot on the primary was invalidated or is gone (max_slot_wal_keep_size, a failover to a server without it): WAL the primary recycled meanwhile is missing. The receiver makes a new slot; see status.continuous.",
  NoPrimary:
    "No server of spec.target answers as a primary, so no WAL is received; check the database's pods and spec.target.",
};

function gapMessage(gap: NonNullable<ContinuousStatus['gap']>): string {
  return `WAL from LSN ${gap.fromLsn} to ${gap.toLsn} on timeline ${gap.timeline} is missing from the bucket (found at ${gap.detectedAt}): no instant in that range can be restored. An on-demand binary backup is taken for it; the condition clears once a binary backup that starts after the gap is committed.`;
}

function receiverDown(deployment: string, why: string): ConditionFields {
  return {
    type: CONTINUOUS_CONDITION,
    status: 'False',
    reason: 'ReceiverDown',
    message: `The WAL receiver ${why}, so WAL is not being archived and the slot keeps it on the primary. See \`kubectl describe deployment ${deployment}\` and \`kubectl logs deployment/${deployment}\`.`,
  };
}

function heartbeatAgeMs(input: ContinuousConditionInput): number | undefined {
  const at = Date.parse(input.status?.heartbeatTime ?? '');
  return Number.isNaN(at) ? undefined : input.nowMs - at;
}

/** Whether the receiver is up: its Deployment available and its last report fresh. */
export function isReceiverUp(input: ContinuousConditionInput): boolean {
  const ageMs = heartbeatAgeMs(input);
  return (
    input.deployment.available === true &&
    ageMs !== undefined &&
    ageMs < RECEIVER_HEARTBEAT_STALE_MS
  );
}

/**
 * When the receiver's last report turns stale, in ms from now: the controller looks again then,
 * since a dead receiver writes nothing that would wake it. Undefined when there is nothing to
 * wait for.
 */
export function msUntilHeartbeatStale(input: ContinuousConditionInput): number | undefined {
  if (!input.enabled || input.suspended) return undefined;
  const ageMs = heartbeatAgeMs(input);
  if (ageMs === undefined || ageMs >= RECEIVER_HEARTBEAT_STALE_MS) return undefined;
  return RECEIVER_HEARTBEAT_STALE_MS - ageMs + 1000;
}

/** The `Continuous` condition's fields; undefined while continuous protection is disabled. */
export function continuousConditionOf(
  input: ContinuousConditionInput,
): ConditionFields | undefined {
  if (!input.enabled) return undefined;
  const type = CONTINUOUS_CONDITION;
  if (input.suspended) {
    return {
      type,
      status: 'False',
      reason: 'Suspended',
      message:
        'The policy is suspended (spec.suspend): the WAL receiver is stopped and its replication slot dropped, so WAL written now is not archived. Set spec.suspend to false to resume.',
    };
  }
  const { status, deployment } = input;
  if (status === undefined) {
    return {
      type,
      status: 'False',
      reason: 'Starting',
      message: `The WAL receiver (Deployment ${deployment.name}) has not reported yet.`,
    };
  }
  const ageMs = heartbeatAgeMs(input) ?? Number.POSITIVE_INFINITY;
  if (ageMs >= RECEIVER_HEARTBEAT_STALE_MS) {
    return receiverDown(
      deployment.name,
      `last reported at ${status.heartbeatTime}, more than ${RECEIVER_HEARTBEAT_STALE_MS / 60_000} minutes ago`,
    );
  }
  // A gap outranks an unavailable Deployment: it lasts until a backup closes it, and a
  // receiver that reported lately is alive, whatever its Deployment says during a rollout.
  if (status.gap !== undefined || status.state === 'Gap') {
    return {
      type,
      status: 'False',
      reason: 'Gap',
      message:
        status.gap !== undefined ? gapMessage(status.gap) : (status.message ?? 'WAL is missing.'),
    };
  }
  if (deployment.available === false) {
    return receiverDown(deployment.name, `Deployment ${deployment.name} is not available`);
  }
  switch (status.state) {
    case 'Streaming':
      return {
        type,
        status: 'True',
        reason: 'Streaming',
        message:
          'WAL is streamed into the bucket within twice spec.continuous.uploadInterval of the primary; status.continuous has the newest WAL stored and the lag.',
      };
    case 'Lagging':
      return {
        type,
        status: 'False',
        reason: 'Lagging',
        message:
          "The bucket is behind the primary by more than twice spec.continuous.uploadInterval (status.continuous.lagSeconds, lagBytes, spoolBytes): the bucket is slow or unreachable, or the receiver cannot keep up; the spool and the slot hold the WAL meanwhile. See the receiver's log.",
      };
    default:
      return {
        type,
        status: 'False',
        reason: status.state,
        message: status.message ?? DEFAULT_MESSAGES[status.state] ?? status.state,
      };
  }
}
