/** What a run writes into its `Backup`'s status: the committed backup, a skip, or a failure. */
import { type BackupPolicy, type BackupStatus, backupStatusSchema } from '../api/index.js';
import type { BackupStatusPatch } from '../kube/backup-record.js';
import { isOnDemand } from './on-demand.js';
import type { RunResult } from './run-types.js';

/** The longest message a Backup's status holds. */
const MESSAGE_MAX = 32_768;

/** The message of an error with its cause, as the CLI prints it. */
export function describeFailure(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause instanceof Error ? ` (cause: ${error.cause.message})` : '';
  return `${error.message}${cause}`;
}

/**
 * The status of a run that starts: Running, and nothing left of an earlier attempt on the
 * same Backup (a retried Job, an on-demand Backup run again), whose failure message or
 * artifact would otherwise linger beside this run's outcome.
 */
export function runningStatusOf(startedAtMs: number): BackupStatusPatch {
  const cleared = Object.fromEntries(
    Object.keys(backupStatusSchema.shape).map((field) => [field, null]),
  );
  return { ...cleared, phase: 'Running', startedAt: new Date(startedAtMs).toISOString() };
}

/** The status of a run that ended with a result. */
export function statusOf(
  result: RunResult,
  policy: BackupPolicy,
  completedAtMs: number,
): BackupStatus {
  const completedAt = new Date(completedAtMs).toISOString();
  if (result.outcome === 'skipped') {
    return { phase: 'Skipped', message: result.message, completedAt };
  }
  const { manifest } = result;
  return {
    phase: 'Completed',
    // An on-demand backup belongs to no line and fills no slot.
    ...(isOnDemand(manifest) ? {} : { slot: manifest.slot, slotLabel: manifest.slotLabel }),
    artifact: {
      bucket: policy.spec.storage?.s3.bucket ?? '',
      key: result.key,
      ...(result.localKey === undefined
        ? {}
        : {
            localClaimName: policy.spec.binary.local?.claimName ?? '',
            localPath: result.localKey,
          }),
    },
    sizeBytes: manifest.objects.reduce((sum, object) => sum + object.sizeBytes, 0),
    checksum: `sha256:${result.manifestSha256}`,
    ...(manifest.server.startLsn === undefined ? {} : { startLsn: manifest.server.startLsn }),
    ...(manifest.server.stopLsn === undefined ? {} : { stopLsn: manifest.server.stopLsn }),
    serverVersion: manifest.server.version.split(' ')[0] ?? manifest.server.version,
    // A fallback (a logical backup taken from the primary) is said here.
    ...(result.note === undefined ? {} : { message: result.note.slice(0, MESSAGE_MAX) }),
    completedAt,
  };
}

/** The status of a run that failed: exactly the message the run printed. */
export function failedStatusOf(error: unknown, completedAtMs: number): BackupStatus {
  return {
    phase: 'Failed',
    message: describeFailure(error).slice(0, MESSAGE_MAX),
    completedAt: new Date(completedAtMs).toISOString(),
  };
}
