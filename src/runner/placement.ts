/**
 * Where a run's backup goes: its line (which the policy must enable for the type), and the
 * period and slot the retention engine decides from the catalog in the bucket. An on-demand run
 * (its line undefined) has no placement: its backup fills no slot.
 */
import type { BackupType } from '../api/index.js';
import { type RetentionLine, resolveRun, retentionPlanOf } from '../retention/index.js';
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
export function retentionLineOf(input: RunInput, type: BackupType): RetentionLine | undefined {
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
 * The placement of the line's backup, or why it is skipped (not the line's day, too late, the
 * period already taken). Asked only while holding the lock, so runs never race for a period.
 */
export async function placementOf(
  input: RunInput,
  type: BackupType,
  line: RetentionLine,
): Promise<Placement | RunSkippedResult> {
  const catalog = await input.remote.listBackups(policyKeyPrefix(locationOf(input, type)));
  const takenPeriods = catalog.flatMap((entry) => {
    const backup = lineBackupOf(entry);
    return backup?.line === line.line ? [backup.period] : [];
  });
  const decision = resolveRun({
    schedule: retentionPlanOf(input.spec).schedule,
    line,
    startedAtMs: input.atMs ?? input.clock(),
    takenPeriods,
  });
  if (!decision.ok) {
    input.logger.info({ reason: decision.reason }, decision.message);
    return { outcome: 'skipped', reason: decision.reason, message: decision.message };
  }
  return { line, period: decision.period, slot: decision.slot, label: decision.label };
}
