/**
 * Whether a scheduled drill runs today. Kubernetes cron cannot say "last day of the month",
 * so the monthly drill's CronJob fires on days 28–31 (see render-cron-jobs) and the drill
 * skips the days that are not a fire day of the line its schedule is named after, as the
 * runner does for backups.
 */
import type { BackupPolicySpec } from '../api/index.js';
import { resolveRun, retentionPlanOf } from '../retention/index.js';

/**
 * Why a scheduled drill started at `startedAtMs` does nothing, or undefined when it runs.
 * Only a start on a day its line skips counts: a late drill still runs (it fills no slot).
 */
export function scheduledDrillSkip(
  spec: BackupPolicySpec,
  startedAtMs: number,
): string | undefined {
  const schedule = spec.verify.schedule;
  if (schedule === 'never') {
    return 'spec.verify.schedule is never: no scheduled restore drill; run pgbackup verify without --scheduled to drill now';
  }
  const decision = resolveRun({
    schedule: retentionPlanOf(spec).schedule,
    line: { line: schedule, keep: 1 },
    triggeredAtMs: startedAtMs,
  });
  return !decision.ok && decision.reason === 'NotFireDay' ? decision.message : undefined;
}
