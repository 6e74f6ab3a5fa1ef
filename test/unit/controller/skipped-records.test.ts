/** Which Skipped Backups the controller deletes: all but the newest few of each type and line. */
import { describe, expect, it } from 'vitest';
import { API_VERSION, type BackupPhase } from '../../../src/api/index.js';
import type { BackupObject } from '../../../src/controller/backup-index.js';
import { excessSkippedRecords } from '../../../src/controller/skipped-records.js';

function entry(
  name: string,
  phase: BackupPhase,
  completedAt: string,
  line = 'monthly',
): BackupObject {
  const metadata = { name, namespace: 'shop' };
  return {
    backup: {
      apiVersion: API_VERSION,
      kind: 'Backup',
      metadata,
      spec: { policy: 'orders', type: 'binary', line: line as 'monthly' },
      status: { phase, completedAt },
    },
    object: { metadata },
  } as BackupObject;
}

const day = (n: number) => `2026-01-${String(n).padStart(2, '0')}T01:00:00Z`;

describe('the bound on Skipped Backups', () => {
  it('keeps the newest three Skipped of each line and never another phase', () => {
    const backups = [
      ...[1, 2, 3, 4, 5, 6].map((n) => entry(`skipped-${n}`, 'Skipped', day(n))),
      entry('completed-old', 'Completed', day(1)),
      entry('failed-old', 'Failed', day(1)),
      entry('weekly-skipped', 'Skipped', day(1), 'weekly'),
    ];
    const excess = excessSkippedRecords(backups).map(({ object }) => object.metadata.name);
    expect(excess.sort()).toEqual(['skipped-1', 'skipped-2', 'skipped-3']);
  });

  it('deletes nothing while a line has no more than the bound', () => {
    const backups = [1, 2, 3].map((n) => entry(`skipped-${n}`, 'Skipped', day(n)));
    expect(excessSkippedRecords(backups)).toEqual([]);
  });
});
