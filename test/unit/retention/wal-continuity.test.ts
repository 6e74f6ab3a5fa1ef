import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  assessWalContinuity,
  parseLsn,
  parseTimelineHistory,
  reachFrom,
  DEFAULT_WAL_SEGMENT_SIZE as SIZE,
  segmentFileName,
  segmentStartLsn,
  type TimelineSwitch,
} from '../../../src/retention/index.js';
import { walBucketArbitrary } from './wal-arbitraries.js';

const S = BigInt(SIZE);
const seg = (timeline: number, segment: number, suffix = '') =>
  `${segmentFileName(timeline, BigInt(segment), SIZE)}${suffix}`;
const lsn = (text: string) => parseLsn(text) ?? -1n;

function assess(
  files: { name: string; endLsn?: bigint }[],
  histories: Map<number, TimelineSwitch[]> = new Map(),
) {
  return assessWalContinuity({ files, histories, segmentSize: SIZE });
}

describe('WAL continuity over the bucket', () => {
  it('reads contiguous segments and the unfinished partial up to its end-lsn as one range', () => {
    const continuity = assess([
      ...[1, 2, 3, 4, 5].map((segment) => ({ name: seg(1, segment, '.zst') })),
      { name: seg(1, 6, '.zst.partial'), endLsn: lsn('0/6000148') },
    ]);
    expect(continuity.newestTimeline).toBe(1);
    expect(continuity.ranges).toEqual([{ fromLsn: S, toLsn: lsn('0/6000148'), timelines: [1] }]);
    expect(continuity.gaps).toEqual([]);
    expect(continuity.newestLsn).toBe(lsn('0/6000148'));
  });

  it('reads encrypted objects as it reads plain ones, mixed in one bucket', () => {
    const continuity = assess([
      ...[1, 2, 3].map((segment) => ({ name: seg(1, segment, '.zst') })),
      ...[4, 5].map((segment) => ({ name: seg(1, segment, '.zst.age') })),
      { name: seg(1, 6, '.zst.partial.age'), endLsn: lsn('0/6000148') },
    ]);
    expect(continuity.ranges).toEqual([{ fromLsn: S, toLsn: lsn('0/6000148'), timelines: [1] }]);
    expect(continuity.foreign).toEqual([]);
    const gap = assess([1, 2, 4].map((segment) => ({ name: seg(1, segment, '.age') })));
    expect(gap.gaps).toEqual([{ timeline: 1, fromLsn: 3n * S, toLsn: 4n * S }]);
  });

  it('finds a missing segment as a gap with its timeline and range', () => {
    const continuity = assess([1, 2, 4, 5].map((segment) => ({ name: seg(1, segment) })));
    expect(continuity.gaps).toEqual([{ timeline: 1, fromLsn: 3n * S, toLsn: 4n * S }]);
    expect(continuity.ranges).toHaveLength(2);
  });

  it('proves nothing with a partial whose end is unknown', () => {
    const continuity = assess([{ name: seg(1, 1) }, { name: seg(1, 2, '.partial') }]);
    expect(continuity.newestLsn).toBe(2n * S);
  });

  it('follows a promotion: the new timeline’s first segment carries the old WAL before the switch', () => {
    const histories = new Map([
      [2, parseTimelineHistory('1\t0/5000080\tno recovery target specified\n')],
    ]);
    const continuity = assess(
      [
        ...[1, 2, 3, 4].map((segment) => ({ name: seg(1, segment, '.gz') })),
        // The old primary's last segment: only a partial, with WAL past the switch it lost.
        { name: seg(1, 5, '.gz.partial'), endLsn: lsn('0/5100000') },
        ...[5, 6, 7].map((segment) => ({ name: seg(2, segment, '.gz') })),
        // The dead primary's WAL after the switch is not on the path.
        { name: seg(1, 6, '.gz') },
        { name: '00000002.history' },
      ],
      histories,
    );
    expect(continuity.newestTimeline).toBe(2);
    expect(continuity.path).toEqual([
      { timeline: 1, beginLsn: 0n, endLsn: lsn('0/5000080') },
      { timeline: 2, beginLsn: lsn('0/5000080'), endLsn: undefined },
    ]);
    expect(continuity.ranges).toEqual([{ fromLsn: S, toLsn: 8n * S, timelines: [1, 2] }]);
    expect(continuity.gaps).toEqual([]);
  });

  it('without the new timeline’s first segment, the old partial reaches the switch and no further', () => {
    const histories = new Map([[2, parseTimelineHistory('1\t0/5000080\treason\n')]]);
    const continuity = assess(
      [
        { name: seg(1, 4) },
        { name: seg(1, 5, '.partial'), endLsn: lsn('0/5100000') },
        { name: seg(2, 6) },
      ],
      histories,
    );
    expect(continuity.gaps).toEqual([{ timeline: 2, fromLsn: lsn('0/5000080'), toLsn: 6n * S }]);
  });

  it('does not follow a timeline whose history file is missing, as recovery does not', () => {
    const continuity = assess(
      [{ name: seg(1, 1) }, { name: seg(2, 2) }, { name: seg(3, 3) }],
      new Map([[3, []]]),
    );
    expect(continuity.newestTimeline).toBe(1);
    expect(continuity.unreachableTimelines).toEqual([2, 3]);
    expect(continuity.newestLsn).toBe(2n * S);
  });

  it('leaves names that are not WAL aside', () => {
    const continuity = assess([
      { name: seg(1, 1) },
      { name: 'README' },
      { name: `${seg(1, 1)}.tmp` },
    ]);
    expect(continuity.foreign).toEqual(['README', `${seg(1, 1)}.tmp`]);
    expect(continuity.ranges).toHaveLength(1);
  });

  it('is empty for an empty bucket', () => {
    const continuity = assess([]);
    expect(continuity).toMatchObject({
      newestTimeline: undefined,
      ranges: [],
      gaps: [],
      newestLsn: undefined,
    });
  });

  it('reaches from a start point to the first hole, and names a hole at the start point', () => {
    const continuity = assess([2, 3, 5, 6].map((segment) => ({ name: seg(1, segment) })));
    expect(reachFrom(continuity, 2n * S + 100n)).toEqual({
      reachableLsn: 4n * S,
      gaps: [{ timeline: 1, fromLsn: 4n * S, toLsn: 5n * S }],
    });
    expect(reachFrom(continuity, S)).toEqual({
      reachableLsn: S,
      gaps: [
        { timeline: 1, fromLsn: S, toLsn: 2n * S },
        { timeline: 1, fromLsn: 4n * S, toLsn: 5n * S },
      ],
    });
    expect(reachFrom(continuity, 7n * S)).toEqual({ reachableLsn: 7n * S, gaps: [] });
  });

  it('over any timeline history, the files recovery reads make one range with no gap', () => {
    fc.assert(
      fc.property(walBucketArbitrary, (bucket) => {
        const continuity = assessWalContinuity({
          files: bucket.names.map((name) => ({ name, endLsn: bucket.partialEnds.get(name) })),
          histories: bucket.histories,
          segmentSize: SIZE,
        });
        expect(continuity.newestTimeline).toBe(bucket.switches.length + 1);
        expect(continuity.gaps).toEqual([]);
        expect(continuity.ranges).toHaveLength(1);
        expect(continuity.ranges[0]?.fromLsn).toBe(segmentStartLsn(bucket.firstSegment, SIZE));
        expect(continuity.newestLsn).toBe(segmentStartLsn(bucket.lastSegment + 1n, SIZE));
      }),
    );
  });

  it('over any timeline history, one missing segment is exactly one gap of that segment', () => {
    fc.assert(
      fc.property(walBucketArbitrary, fc.nat(), (bucket, pick) => {
        const span = Number(bucket.lastSegment - bucket.firstSegment);
        fc.pre(span >= 2);
        const missing = bucket.firstSegment + 1n + BigInt(pick % (span - 1));
        // Drop every file of that segment, the old timeline's partial too.
        const names = bucket.names
          .filter(
            (name) =>
              !name.endsWith('.history') &&
              name.slice(8, 24) !== segmentFileName(1, missing, SIZE).slice(8),
          )
          .concat(bucket.names.filter((name) => name.endsWith('.history')));
        const continuity = assessWalContinuity({
          files: names.map((name) => ({ name, endLsn: bucket.partialEnds.get(name) })),
          histories: bucket.histories,
          segmentSize: SIZE,
        });
        expect(continuity.gaps.map(({ fromLsn, toLsn }) => [fromLsn, toLsn])).toEqual([
          [segmentStartLsn(missing, SIZE), segmentStartLsn(missing + 1n, SIZE)],
        ]);
      }),
    );
  });
});
