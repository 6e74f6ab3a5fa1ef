/** How `pgbackup backup --wait` prints the end of an on-demand Backup's run. */
import type { BackupEndPhase, BackupStatus } from '../api/index.js';
import { formatSize } from './list-output.js';

/** The status of a Backup whose run has ended. */
export type BackupOutcome = BackupStatus & { readonly phase: BackupEndPhase };

/**
 * The outcome, one `field: value` line each after the phase: the artifact's bucket and key,
 * its size and the run's message, those that are set.
 */
export function describeOutcome(name: string, outcome: BackupOutcome): string {
  const { artifact, sizeBytes, message } = outcome;
  const lines = [
    `backup.pgbackup.dev/${name} ${outcome.phase}`,
    ...(artifact === undefined ? [] : [`bucket: ${artifact.bucket}`, `key: ${artifact.key}`]),
    ...(sizeBytes === undefined ? [] : [`size: ${formatSize(sizeBytes)} (${sizeBytes} bytes)`]),
    ...(message === undefined ? [] : [`message: ${message}`]),
  ];
  return `${lines.join('\n')}\n`;
}

/** A wait in seconds as a duration like the one `--timeout` takes: `1h`, `1h30m`, `90s` → `1m30s`. */
export function formatWait(seconds: number): string {
  const parts = [
    [Math.floor(seconds / 3600), 'h'],
    [Math.floor((seconds % 3600) / 60), 'm'],
    [seconds % 60, 's'],
  ] as const;
  const text = parts
    .filter(([amount]) => amount > 0)
    .map(([amount, unit]) => `${amount}${unit}`)
    .join('');
  return text === '' ? '0s' : text;
}
