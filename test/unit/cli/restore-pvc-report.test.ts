import { describe, expect, it } from 'vitest';
import {
  describeRestoreOutcome,
  describeStartFromClaim,
} from '../../../src/cli/restore-pvc-report.js';

describe('what pgbackup restore --to-pvc prints at the end', () => {
  it('prints the outcome, one field a line, those that are set', () => {
    expect(
      describeRestoreOutcome('orders-restore-20261203t174000z', {
        phase: 'Succeeded',
        backup: 'pgbackup/shop/orders/binary/daily/3/20261203T010000Z-ab12cd34/',
        reached: {
          lsn: '0/6001A58',
          lastTransactionTime: '2026-12-03 17:01:40.201533+00',
          timeline: 2,
        },
        restoreSeconds: 41.3,
      }),
    ).toBe(
      [
        'restore.pgbackup.dev/orders-restore-20261203t174000z Succeeded',
        'backup: pgbackup/shop/orders/binary/daily/3/20261203T010000Z-ab12cd34/',
        'reached: 0/6001A58',
        'last transaction: 2026-12-03 17:01:40.201533+00',
        'timeline: 2',
        'restore time: 41.3 s',
        '',
      ].join('\n'),
    );
    expect(
      describeRestoreOutcome('r', { phase: 'Failed', message: 'the claim is not empty' }),
    ).toBe('restore.pgbackup.dev/r Failed\nmessage: the claim is not empty\n');
  });

  it('names the claim in each preset’s way to start from it, and the docs', () => {
    const text = describeStartFromClaim('orders-restored');
    expect(text).toContain('primary.persistence.existingClaim=orders-restored,');
    expect(text).toContain('pgDataVolume: {pvcName: orders-restored, directory: pgdata}');
    expect(text).toContain('docs/restore-in-cluster.md');
  });
});
