import { describe, expect, it } from 'vitest';
import { backupStatusSchema } from '../../../src/api/backup-status.js';
import {
  describeGapSegments,
  findTargetPair,
} from '../../../src/cli/verify-point-in-time-restorer.js';
import type { VerifyOutcome } from '../../../src/runner/verify-backup.js';
import {
  drillTypesOf,
  skipReasonOf,
  verificationStatusOf,
} from '../../../src/runner/verify-in-cluster.js';
import {
  checkReached,
  isoMicros,
  parseRecoveryStop,
  recoveryFailureLines,
} from '../../../src/runner/verify-point-in-time.js';
import { fixtureText } from '../../harness/fixtures.js';

const SEGMENT_SIZE = 16 * 1024 * 1024;
/** 2026-12-03T17:02:51.718352Z and 17:02:51.721656Z, the fixture log's target and stop. */
const LAST = { micros: 1_796_317_371_718_352, lsn: 0x9001d00n };
const NEXT = { micros: 1_796_317_371_721_656, lsn: 0x9001e28n };

describe('the point-in-time drill: where recovery stopped', () => {
  it('prints instants to the microsecond in UTC', () => {
    expect(isoMicros(LAST.micros)).toBe('2026-12-03T17:02:51.718352Z');
    expect(isoMicros(1_796_317_371_000_007)).toBe('2026-12-03T17:02:51.000007Z');
  });

  it("reads the stop from the server's log: before the commit of the transaction after the target", () => {
    expect(parseRecoveryStop(fixtureText('verify/pitr-recovery-stopped.txt'))).toEqual({
      kind: 'commit',
      xid: '861',
      micros: NEXT.micros,
    });
    expect(parseRecoveryStop(fixtureText('verify/pitr-recovery-failed.txt'))).toBeUndefined();
  });

  it('passes only when the last transaction replayed is the target and the stop is the next one', () => {
    const stop = { kind: 'commit' as const, xid: '861', micros: NEXT.micros };
    expect(checkReached({ last: LAST, next: NEXT }, LAST.micros, stop)).toBeUndefined();
    // One microsecond short: replay ended on an earlier transaction.
    expect(checkReached({ last: LAST, next: NEXT }, LAST.micros - 1, stop)).toContain(
      'the last transaction replayed committed at 2026-12-03T17:02:51.718351Z',
    );
    // Stopped before some other transaction than the one after the target.
    expect(
      checkReached({ last: LAST, next: NEXT }, LAST.micros, { ...stop, micros: NEXT.micros + 1 }),
    ).toContain('recovery to 2026-12-03T17:02:51.718352Z stopped elsewhere');
    expect(checkReached({ last: LAST, next: NEXT }, LAST.micros, undefined)).toContain(
      'does not say where recovery stopped',
    );
  });

  it("quotes wal-fetch's failure and the server's FATAL, not the drill's own refused probes nor routine misses", () => {
    const lines = recoveryFailureLines(fixtureText('verify/pitr-recovery-failed.txt'));

    expect(lines).toHaveLength(2);
    expect(lines[0]).toContain(
      'could not fetch 000000010000000000000006: 000000010000000000000006.zst in s3://pgbackup-test/t/wal/ is damaged',
    );
    expect(lines[1]).toContain('could not restore file "000000010000000000000006" from archive');
    expect(lines.join('\n')).not.toContain('not accepting connections');
    expect(lines.join('\n')).not.toContain('00000002.history');
  });

  it('names the segments a gap leaves out', () => {
    expect(
      describeGapSegments({ timeline: 1, fromLsn: 0x6000000n, toLsn: 0x7000000n }, SEGMENT_SIZE),
    ).toBe('segment 000000010000000000000006');
    expect(
      describeGapSegments(
        { timeline: 2, fromLsn: 0x6000000n, toLsn: 0x1_0a00_0000n },
        SEGMENT_SIZE,
      ),
    ).toBe('segments 000000020000000000000006 to 000000020000000100000009');
  });
});

describe("the point-in-time drill's result in a Backup", () => {
  it('records the drill, its target and the instant reached, to the microsecond, as the schema accepts', () => {
    const outcome = {
      key: 'k/',
      manifest: {} as never,
      result: 'Passed' as const,
      message: 'restores to 2026-12-03T17:02:51.718352Z',
      finishedAtMs: Date.parse('2026-12-03T17:04:00Z'),
      restoreMs: 61_240,
      target: isoMicros(LAST.micros),
      reached: isoMicros(LAST.micros),
    };

    const status = verificationStatusOf(outcome, 'point-in-time');

    expect(status.verification).toEqual({
      result: 'Passed',
      type: 'point-in-time',
      target: '2026-12-03T17:02:51.718352Z',
      reached: '2026-12-03T17:02:51.718352Z',
      time: '2026-12-03T17:04:00.000Z',
      message: 'restores to 2026-12-03T17:02:51.718352Z',
      restoreSeconds: 61.2,
    });
    expect(backupStatusSchema.parse(status)).toEqual(status);
  });
});

describe('the drills of a scheduled run', () => {
  const spec = (binary: boolean, logical: boolean, continuous: boolean) => ({
    binary: { enabled: binary },
    logical: { enabled: logical },
    continuous: { enabled: continuous },
  });

  it('adds the point-in-time drill after the binary one when continuous protection is on', () => {
    expect(drillTypesOf(spec(true, true, true), undefined, true)).toEqual([
      'binary',
      'point-in-time',
      'logical',
    ]);
    expect(drillTypesOf(spec(true, false, false), undefined, true)).toEqual(['binary']);
    // Without binary backups there is nothing to replay the WAL onto.
    expect(drillTypesOf(spec(false, true, true), undefined, true)).toEqual(['logical']);
    expect(drillTypesOf(spec(true, true, true), 'point-in-time', false)).toEqual(['point-in-time']);
    expect(drillTypesOf(spec(true, true, true), undefined, false)).toEqual(['binary']);
  });
});

describe("the point-in-time drill's instant", () => {
  /** The transaction ends a WAL holds, in WAL order; `scan` answers as the pg_waldump scan does. */
  const scanOf = (ends: readonly { micros: number; lsn: bigint }[]) => async (toLsn: bigint) =>
    ends.filter((end) => end.lsn < toLsn).at(-1);

  it('is the second-newest transaction end, the newest being where recovery stops', async () => {
    const ends = [
      { micros: 100, lsn: 10n },
      { micros: 200, lsn: 20n },
      { micros: 300, lsn: 30n },
    ];
    await expect(findTargetPair(scanOf(ends), 40n)).resolves.toEqual({
      last: ends[1],
      next: ends[2],
    });
  });

  it('steps back over ends that share the newest commit time: a time target cannot split them', async () => {
    const ends = [
      { micros: 100, lsn: 10n },
      { micros: 300, lsn: 20n },
      { micros: 300, lsn: 30n },
    ];
    await expect(findTargetPair(scanOf(ends), 40n)).resolves.toEqual({
      last: ends[0],
      next: ends[1],
    });
  });

  it('is none when fewer than two transactions with different times were archived', async () => {
    await expect(findTargetPair(scanOf([{ micros: 100, lsn: 10n }]), 40n)).resolves.toBeUndefined();
    await expect(findTargetPair(scanOf([]), 40n)).resolves.toBeUndefined();
    await expect(
      findTargetPair(
        scanOf([
          { micros: 100, lsn: 10n },
          { micros: 100, lsn: 20n },
        ]),
        40n,
      ),
    ).resolves.toBeUndefined();
  });
});

describe('the point-in-time drill after a failed binary drill', () => {
  const drill = (type: 'binary' | 'logical', result: 'Passed' | 'Failed') => ({
    type,
    verification: { key: 'k/binary/daily/20261203T020000Z/', result } as VerifyOutcome,
  });

  it("is skipped, so the binary failure stays the Backup's recorded verification", () => {
    expect(skipReasonOf('point-in-time', [drill('binary', 'Failed')])).toMatch(
      /skipped: the binary drill of the same backup \(k\/binary\/daily\/20261203T020000Z\/\) failed/,
    );
  });

  it('runs after a passed binary drill, and other drills never skip', () => {
    expect(skipReasonOf('point-in-time', [drill('binary', 'Passed')])).toBeUndefined();
    expect(skipReasonOf('point-in-time', [])).toBeUndefined();
    expect(skipReasonOf('logical', [drill('binary', 'Failed')])).toBeUndefined();
  });
});
