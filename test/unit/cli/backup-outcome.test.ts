import { describe, expect, it } from 'vitest';
import { isEndPhase } from '../../../src/api/index.js';
import { describeOutcome, formatWait } from '../../../src/cli/backup-outcome.js';

describe('the outcome pgbackup backup --wait prints', () => {
  it('prints a completed run with its bucket, key and size', () => {
    expect(
      describeOutcome('before-upgrade', {
        phase: 'Completed',
        artifact: { bucket: 'backups', key: 'pg/shop/orders/binary/20261202T061500Z/' },
        sizeBytes: 3_250_000,
      }),
    ).toBe(
      [
        'backup.pgbackup.dev/before-upgrade Completed',
        'bucket: backups',
        'key: pg/shop/orders/binary/20261202T061500Z/',
        'size: 3.1 MiB (3250000 bytes)',
        '',
      ].join('\n'),
    );
  });

  it('prints a failed run with its message only', () => {
    expect(
      describeOutcome('x', { phase: 'Failed', message: 'the bucket "gone" does not exist' }),
    ).toBe('backup.pgbackup.dev/x Failed\nmessage: the bucket "gone" does not exist\n');
  });

  it('knows which phases end a run', () => {
    expect(['Completed', 'Failed', 'Skipped'].every((phase) => isEndPhase(phase as never))).toBe(
      true,
    );
    expect(isEndPhase('Running')).toBe(false);
    expect(isEndPhase('Pending')).toBe(false);
    expect(isEndPhase(undefined)).toBe(false);
  });

  it('says how long it waited as --timeout would', () => {
    expect(formatWait(3600)).toBe('1h');
    expect(formatWait(5400)).toBe('1h30m');
    expect(formatWait(90)).toBe('1m30s');
    expect(formatWait(3661)).toBe('1h1m1s');
  });
});
