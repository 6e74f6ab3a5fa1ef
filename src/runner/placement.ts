/**
 * Where a run's backup goes: its line (which the policy must enable for the type), and the
 * period and slot the retention engine decides from the catalog in the bucket. An on-demand run
 * (its line undefined) has no placement: its backup fills no slot.
 */
import type { BackupType } from '../api/index.js';
import {
  decideTrigger,
  periodTakenSkip,
  type RetentionLine,
  type RunAccepted,
  retentionPlanOf,
} from '../retention/index.js';
import { type PolicyLocation, policyKeyPrefix } from '../storage/index.js';
import { RunError } from './errors.js';
import { lineBackupOf } from './rotate.js';
import type { RunInput, RunSkippedResult } from './run-types.js';

/** A line's backup's place: the line, and the period and slot it fills. */
export interface Placement {
  readonly line: RetentionLine;
  readonly period: number;
  readonly slot: number;
  readonly label: string;
}

/** Where the policy's backups of the type live. */
export function locationOf(input: RunInput, type: BackupType): PolicyLocation {
  return {
    prefix: input.spec.storage?.s3.prefix ?? '',
    namespace: input.namespace,
    policy: input.policy,
    type,
  };
}

/** The run's retention line; undefined for an on-demand run. */
export function retentionLineOf(
  input: Pick<RunInput, 'line' | 'spec' | 'namespace' | 'policy'>,
  type: BackupType,
): RetentionLine | undefined {
  if (input.line === undefined) return undefined;
  const line = retentionPlanOf(input.spec)[type].find((entry) => entry.line === input.line);
  if (line === undefined) {
    throw new RunError(
      `the ${input.line} line is not enabled for ${type} backups in BackupPolicy ${input.namespace}/${input.policy}: add it to spec.${type}.lines${type === 'logical' ? ' (and keep spec.logical.enabled true)' : ''}, or run a line the policy lists`,
    );
  }
  return line;
}

/**
 * Whether the run's trigger may take the line's backup, decided from the trigger time alone
 * and so before any I/O: the accepted period, or a skip when the trigger falls on a day that
 * is not a fire day of the line (nothing to do: a CronJob of a month-end line fires on days
 * 28–31).
 *
 * @throws RunError when the trigger came more than the lateness after its fire instant: the
 *   run fails (and alerts) rather than skipping silently, and says how to take one now
 */
export function admitTrigger(
  input: Pick<RunInput, 'spec' | 'triggeredAtMs' | 'onDemandCommand'>,
  line: RetentionLine,
): RunAccepted | RunSkippedResult {
  const decision = decideTrigger({
    schedule: retentionPlanOf(input.spec).schedule,
    line,
    triggeredAtMs: input.triggeredAtMs,
  });
  if (decision.ok) return decision;
  if (decision.reason === 'TooLate') {
    throw new RunError(`${decision.message}. Take one now on demand: ${input.onDemandCommand}`);
  }
  return { outcome: 'skipped', reason: decision.reason, message: decision.message };
}

/**
 * The placement of an admitted run's backup, or a skip when its period already has a
 * committed backup (read from the catalog in the bucket). Asked only while holding the lock,
 * so runs never race for a period.
 */
export async function placementOf(
  input: RunInput,
  type: BackupType,
  line: RetentionLine,
  admitted: RunAccepted,
): Promise<Placement | RunSkippedResult> {
  const catalog = await input.remote.listBackups(policyKeyPrefix(locationOf(input, type)));
  const takenPeriods = catalog.flatMap((entry) => {
    const backup = lineBackupOf(entry);
    return backup?.line === line.line ? [backup.period] : [];
  });
  const taken = periodTakenSkip(line, admitted, takenPeriods);
  if (taken !== undefined) {
    input.logger.info({ reason: taken.reason }, taken.message);
    return { outcome: 'skipped', reason: taken.reason, message: taken.message };
  }
  return { line, period: admitted.period, slot: admitted.slot, label: admitted.label };
}
