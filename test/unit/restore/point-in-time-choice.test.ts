/** The pure parts of a point-in-time restore: the target, the settings, the backup chosen, the refusals. */
import { describe, expect, it } from 'vitest';
import {
  type BaseBackup,
  chooseBaseBackup,
  refuseUnreachable,
} from '../../../src/restore/base-backup-choice.js';
import {
  formatMicros,
  parseTargetLsn,
  parseTargetTime,
  recoverySettingsText,
} from '../../../src/restore/recovery-target.js';
import { readWaldumpLine } from '../../../src/restore/wal-commit-times.js';
import { assessWalContinuity } from '../../../src/retention/wal-continuity.js';
import type { CatalogEntry } from '../../../src/storage/index.js';

const MB16 = 16 * 1024 * 1024;

function entry(key: string, stopLsn: string, completedAt: string): CatalogEntry {
  return {
    key,
    manifest: {
      startedAt: completedAt,
      completedAt,
      server: { stopLsn, startTimeline: 1 },
    },
  } as unknown as CatalogEntry;
}

const continuity = assessWalContinuity({
  files: [
    { name: '000000010000000000000002' },
    { name: '000000010000000000000003' },
    { name: '000000010000000000000005.partial', endLsn: 0x5000100n },
  ],
  histories: new Map(),
  segmentSize: MB16,
});
const older = entry('b/1/', '0/2000100', '2026-12-03T10:00:00.000Z');
const newer = entry('b/2/', '0/3000100', '2026-12-03T11:00:00.000Z');

describe('the recovery target', () => {
  it('parses an instant with its zone to the microsecond, and refuses one without', () => {
    const target = parseTargetTime('2026-12-03 15:40:01.123456+01');
    expect(target).toMatchObject({ kind: 'time' });
    if (typeof target === 'string' || target.kind !== 'time') throw new Error('not parsed');
    expect(formatMicros(target.micros)).toBe('2026-12-03 14:40:01.123456+00');
    expect(parseTargetTime('2026-12-03 14:40:01')).toMatch(/with a zone/);
    expect(parseTargetLsn('nope')).toMatch(/not a WAL position/);
  });

  it('writes restore_command quoted, the target, the action and timeline latest', () => {
    const text = recoverySettingsText({
      target: { kind: 'lsn', lsn: 0x3000148n },
      restoreCommand: "pgbackup wal-fetch %f %p -f '/x y/policy.yaml'",
      pause: true,
      comment: 'test',
    });
    expect(text).toContain("restore_command = 'pgbackup wal-fetch %f %p -f ''/x y/policy.yaml'''");
    expect(text).toContain("recovery_target_lsn = '0/3000148'");
    expect(text).toContain("recovery_target_action = 'pause'");
    expect(text).toContain("recovery_target_timeline = 'latest'");
  });
});

describe('the backup a point-in-time restore starts from', () => {
  it('is the newest that ends at or before the target, never one that ends after', () => {
    const micros = Date.parse('2026-12-03T10:30:00Z') * 1000;
    const chosen = chooseBaseBackup(
      [older, newer],
      continuity,
      { kind: 'time', micros, text: '' },
      'p',
    );
    expect((chosen as BaseBackup).entry.key).toBe('b/1/');
    const late = Date.parse('2026-12-03T11:00:00Z') * 1000;
    expect(
      (
        chooseBaseBackup(
          [older, newer],
          continuity,
          { kind: 'time', micros: late, text: '' },
          'p',
        ) as BaseBackup
      ).entry.key,
    ).toBe('b/2/');
    const early = Date.parse('2026-12-03T09:00:00Z') * 1000;
    expect(
      chooseBaseBackup([older, newer], continuity, { kind: 'time', micros: early, text: '' }, 'p'),
    ).toMatch(/usable only from its end.*b\/1\//);
  });

  it('reaches to the gap, and refuses a target after it naming the newest commit before it', () => {
    const chosen = chooseBaseBackup(
      [older, newer],
      continuity,
      { kind: 'latest' },
      'p',
    ) as BaseBackup;
    expect(chosen.reach.reachableLsn).toBe(0x4000000n);
    const facts = {
      backup: chosen,
      newestCommit: { micros: Date.parse('2026-12-03T11:05:00Z') * 1000, lsn: 0x3fff000n },
      lastRecordLsn: 0x3fff100n,
    };
    const before = Date.parse('2026-12-03T11:04:59Z') * 1000;
    expect(refuseUnreachable({ kind: 'time', micros: before, text: '' }, facts)).toBeUndefined();
    const after = Date.parse('2026-12-03T11:05:00Z') * 1000;
    const refusal = refuseUnreachable({ kind: 'time', micros: after, text: '' }, facts);
    expect(refusal).toContain('lies inside or after a gap');
    expect(refusal).toContain('from 0/4000000 to 0/5000000');
    expect(refusal).toContain('just before 2026-12-03 11:05:00.000000+00');
    expect(refuseUnreachable({ kind: 'lsn', lsn: 0x3fff100n }, facts)).toBeUndefined();
    expect(refuseUnreachable({ kind: 'lsn', lsn: 0x3fff101n }, facts)).toMatch(/gap/);
  });
});

describe("pg_waldump's output", () => {
  it('gives the newest commit and record before the limit', () => {
    const state = {};
    readWaldumpLine(
      'rmgr: Transaction len (rec/tot):     34/    34, tx:        735, lsn: 0/03000028, prev 0/02000110, desc: COMMIT 2026-12-03 14:40:01.123456 UTC',
      0x4000000n,
      state,
    );
    readWaldumpLine(
      'rmgr: Heap        len (rec/tot):     54/    54, tx:        736, lsn: 0/03000060, prev 0/03000028, desc: INSERT off 2',
      0x4000000n,
      state,
    );
    readWaldumpLine(
      'rmgr: Transaction len (rec/tot):     34/    34, tx:        736, lsn: 0/04000028, prev 0/03000060, desc: COMMIT 2026-12-03 14:40:02 UTC',
      0x4000000n,
      state,
    );
    expect(state).toEqual({
      lastRecordLsn: 0x3000060n,
      newestCommit: { lsn: 0x3000028n, micros: Date.parse('2026-12-03T14:40:01Z') * 1000 + 123456 },
    });
  });
});
