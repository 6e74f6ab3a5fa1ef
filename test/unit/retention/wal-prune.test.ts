import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  assessWalContinuity,
  parseTimelineHistory,
  parseWalFileName,
  planWalPrune,
  reachFrom,
  DEFAULT_WAL_SEGMENT_SIZE as SIZE,
  segmentFileName,
  segmentOf,
  segmentStartLsn,
  type WalAnchorCandidate,
} from '../../../src/retention/index.js';
import { timelineOfSegment, type WalBucket, walBucketArbitrary } from './wal-arbitraries.js';

const S = BigInt(SIZE);
const DAY = 86_400_000;
const seg = (timeline: number, segment: number, suffix = '') =>
  `${segmentFileName(timeline, BigInt(segment), SIZE)}${suffix}`;
const backup = (day: number, segment: number, startTimeline?: number): WalAnchorCandidate => ({
  key: `binary/daily/${day}/`,
  startLsn: BigInt(segment) * S + 40n,
  startTimeline,
  instantMs: day * DAY,
});

describe('WAL retention', () => {
  const names = [...Array.from({ length: 10 }, (_, index) => seg(1, index + 1, '.zst'))];

  it('deletes the segments before the newest backup older than the window, and only those', () => {
    const plan = planWalPrune({
      names,
      histories: new Map(),
      backups: [backup(1, 2, 1), backup(2, 5, 1), backup(3, 8, 1)],
      windowMs: DAY,
      nowMs: 3 * DAY + 1,
      segmentSize: SIZE,
    });
    expect(plan.anchor?.key).toBe('binary/daily/2/');
    expect(plan.deletions).toEqual([1, 2, 3, 4].map((segment) => seg(1, segment, '.zst')));
    expect(plan.keptCount).toBe(6);
  });

  it('treats encrypted and plain objects alike (encryption turned on at segment 6)', () => {
    const mixed = names.map((name, index) => (index >= 5 ? `${name}.age` : name));
    const plan = planWalPrune({
      names: [...mixed, seg(1, 11, '.zst.partial.age'), '00000002.history.age'],
      histories: new Map(),
      backups: [backup(1, 2, 1), backup(2, 7, 1), backup(3, 9, 1)],
      windowMs: DAY,
      nowMs: 3 * DAY + 1,
      segmentSize: SIZE,
    });
    expect(plan.anchor?.key).toBe('binary/daily/2/');
    expect(plan.deletions).toEqual([
      ...[1, 2, 3, 4, 5].map((segment) => seg(1, segment, '.zst')),
      seg(1, 6, '.zst.age'),
    ]);
  });

  it('deletes nothing while no committed backup is older than the window', () => {
    const plan = planWalPrune({
      names,
      histories: new Map(),
      backups: [backup(2, 5), backup(3, 8)],
      windowMs: 2 * DAY,
      nowMs: 3 * DAY + 1,
      segmentSize: SIZE,
    });
    expect(plan).toEqual({ anchor: undefined, deletions: [], keptCount: 10 });
  });

  it('keeps history files and names that are not WAL, whatever their age', () => {
    const histories = new Map([[2, parseTimelineHistory('1\t0/3000100\tpromoted\n')]]);
    const plan = planWalPrune({
      names: [
        seg(1, 1),
        seg(1, 2),
        seg(1, 3, '.partial'),
        seg(2, 3),
        seg(2, 4),
        '00000002.history',
        'notes.txt',
      ],
      histories,
      backups: [backup(1, 4, 2)],
      windowMs: DAY,
      nowMs: 5 * DAY,
      segmentSize: SIZE,
    });
    expect(plan.deletions).toEqual([seg(1, 1), seg(1, 2), seg(1, 3, '.partial'), seg(2, 3)]);
  });

  it('anchors on no backup taken on a timeline the newest does not descend from', () => {
    // Timeline 2 branched off at segment 3; a backup on timeline 1 after the switch is on an
    // abandoned branch: replaying it never leads to timeline 2.
    const histories = new Map([[2, parseTimelineHistory('1\t0/3000100\tpromoted\n')]]);
    const plan = planWalPrune({
      names: [seg(1, 1), seg(1, 2), seg(2, 3), seg(2, 4), seg(2, 5), '00000002.history'],
      histories,
      backups: [backup(1, 2, 1), backup(2, 4, 1)],
      windowMs: DAY,
      nowMs: 5 * DAY,
      segmentSize: SIZE,
    });
    expect(plan.anchor?.key).toBe('binary/daily/1/');
    expect(plan.deletions).toEqual([seg(1, 1)]);
  });

  it('never deletes the partial of the segment being written', () => {
    const plan = planWalPrune({
      names: [seg(1, 1), seg(1, 2, '.partial')],
      histories: new Map(),
      // A backup whose start lies beyond the stored WAL (its WAL not yet uploaded).
      backups: [backup(1, 5)],
      windowMs: DAY,
      nowMs: 5 * DAY,
      segmentSize: SIZE,
    });
    expect(plan.deletions).toEqual([seg(1, 1)]);
  });

  const scenario = walBucketArbitrary.chain((bucket) =>
    fc.record({
      bucket: fc.constant(bucket),
      // Backups at increasing instants and LSNs inside the stored span, each on the timeline
      // that owns its start.
      backups: fc
        .uniqueArray(
          fc.bigInt({
            min: segmentStartLsn(bucket.firstSegment, SIZE),
            max: segmentStartLsn(bucket.lastSegment + 1n, SIZE) - 1n,
          }),
          { maxLength: 6 },
        )
        .map((lsns) =>
          [...lsns]
            .sort((a, b) => (a < b ? -1 : 1))
            .map((startLsn, index) => ({
              key: `b${index}`,
              startLsn,
              startTimeline: timelineOfLsn(bucket.switches, startLsn),
              instantMs: (index + 1) * DAY,
            })),
        ),
      windowMs: fc.integer({ min: 1, max: 8 * DAY }),
      nowMs: fc.integer({ min: 0, max: 10 * DAY }),
    }),
  );

  function timelineOfLsn(switches: readonly bigint[], lsn: bigint): number {
    return switches.filter((switchLsn) => switchLsn <= lsn).length + 1;
  }

  function continuityOf(
    names: readonly string[],
    partialEnds: ReadonlyMap<string, bigint>,
    histories: Map<number, ReturnType<typeof parseTimelineHistory>>,
  ) {
    return assessWalContinuity({
      files: names.map((name) => ({ name, endLsn: partialEnds.get(name) })),
      histories,
      segmentSize: SIZE,
    });
  }

  function planOf(
    bucket: WalBucket,
    backups: readonly WalAnchorCandidate[],
    windowMs: number,
    nowMs: number,
  ) {
    const { names, histories } = bucket;
    return planWalPrune({ names, histories, backups, windowMs, nowMs, segmentSize: SIZE });
  }

  it('keeps every instant of the window restorable and everything a newer backup needs', () => {
    fc.assert(
      fc.property(scenario, ({ bucket, backups, windowMs, nowMs }) => {
        const plan = planOf(bucket, backups, windowMs, nowMs);
        const kept = bucket.names.filter((name) => !plan.deletions.includes(name));
        const before = continuityOf(bucket.names, bucket.partialEnds, bucket.histories);
        const after = continuityOf(kept, bucket.partialEnds, bucket.histories);
        // Continuity from the anchor, and from every backup at or after it, is untouched.
        for (const retained of backups.filter(
          (b) => plan.anchor !== undefined && b.instantMs >= plan.anchor.instantMs,
        )) {
          expect(reachFrom(after, retained.startLsn)).toEqual(reachFrom(before, retained.startLsn));
        }
        if (plan.anchor === undefined) {
          expect(plan.deletions).toEqual([]);
          expect(backups.every((b) => b.instantMs > nowMs - windowMs)).toBe(true);
          return;
        }
        const anchor = plan.anchor;
        // The anchor is the newest backup old enough: the window's first instant lies after it.
        expect(plan.anchor.instantMs).toBeLessThanOrEqual(nowMs - windowMs);
        expect(
          backups.some((b) => b.instantMs > anchor.instantMs && b.instantMs <= nowMs - windowMs),
        ).toBe(false);
        // From the anchor, the bucket reaches as far as it did: every instant since is restorable.
        expect(reachFrom(after, plan.anchor.startLsn).reachableLsn).toBe(
          segmentStartLsn(bucket.lastSegment + 1n, SIZE),
        );
        for (const name of plan.deletions) {
          const file = parseWalFileName(name, SIZE);
          expect(file?.kind).toBe('segment');
          if (file?.kind === 'segment') {
            expect(file.segment).toBeLessThan(segmentOf(plan.anchor.startLsn, SIZE));
          }
        }
      }),
    );
  });

  it('deletes every stored segment before the anchor’s, on any timeline', () => {
    fc.assert(
      fc.property(scenario, ({ bucket, backups, windowMs, nowMs }) => {
        const plan = planOf(bucket, backups, windowMs, nowMs);
        if (plan.anchor === undefined) return;
        const anchorSegment = segmentOf(plan.anchor.startLsn, SIZE);
        const expected = bucket.names.filter((name) => {
          const file = parseWalFileName(name, SIZE);
          return file?.kind === 'segment' && file.segment < anchorSegment;
        });
        expect(plan.deletions).toEqual([...expected].sort());
        expect(timelineOfSegment(bucket.switches, anchorSegment)).toBeGreaterThanOrEqual(
          plan.anchor.startTimeline ?? 1,
        );
      }),
    );
  });
});
