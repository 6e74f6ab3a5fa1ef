/**
 * Buckets of WAL for property tests: a history of timelines (each switch inside a segment,
 * as promotions are) and the files recovery reads along it.
 */
import fc from 'fast-check';
import {
  historyFileName,
  DEFAULT_WAL_SEGMENT_SIZE as SIZE,
  segmentFileName,
  segmentOf,
  segmentStartLsn,
  type TimelineSwitch,
} from '../../../src/retention/index.js';

/** A timeline history and the stored WAL along it. */
export interface WalBucket {
  /** Switch LSNs, ascending: timeline i+1 begins at switches[i]. */
  readonly switches: readonly bigint[];
  readonly histories: Map<number, TimelineSwitch[]>;
  /** Segments stored, from `firstSegment` to `lastSegment` inclusive. */
  readonly firstSegment: bigint;
  readonly lastSegment: bigint;
  /** Every object name: the segments recovery reads, the old timelines' last partials, histories. */
  readonly names: string[];
  /** `end-lsn` of each partial. */
  readonly partialEnds: Map<string, bigint>;
}

/** The timeline recovery reads segment `segment` from: the newest whose first segment is at or before it. */
export function timelineOfSegment(switches: readonly bigint[], segment: bigint): number {
  let timeline = 1;
  switches.forEach((switchLsn, index) => {
    if (segmentOf(switchLsn, SIZE) <= segment) timeline = index + 2;
  });
  return timeline;
}

/** The objects of a bucket with the given switches and stored segment span. */
export function bucketOf(
  switches: readonly bigint[],
  firstSegment: bigint,
  lastSegment: bigint,
): WalBucket {
  const histories = new Map<number, TimelineSwitch[]>();
  switches.forEach((_, index) => {
    histories.set(
      index + 2,
      switches.slice(0, index + 1).map((switchLsn, parent) => ({
        parentTimeline: parent + 1,
        switchLsn,
        reason: 'promoted',
      })),
    );
  });
  const names = [...histories.keys()].map(historyFileName);
  const partialEnds = new Map<string, bigint>();
  for (let segment = firstSegment; segment <= lastSegment; segment += 1n) {
    names.push(`${segmentFileName(timelineOfSegment(switches, segment), segment, SIZE)}.zst`);
  }
  // The old timeline's last segment, only a .partial, reaching past the switch as a primary
  // that died after its replica was promoted does.
  switches.forEach((switchLsn, index) => {
    const segment = segmentOf(switchLsn, SIZE);
    if (segment < firstSegment || segment > lastSegment) return;
    const name = `${segmentFileName(index + 1, segment, SIZE)}.zst.partial`;
    names.push(name);
    partialEnds.set(name, switchLsn + 4096n);
  });
  return { switches, histories, firstSegment, lastSegment, names, partialEnds };
}

/** Up to three switches, each in a later segment than the last, within segments 1..60. */
export const switchesArbitrary = fc
  .uniqueArray(fc.integer({ min: 2, max: 60 }), { maxLength: 3 })
  .chain((segments) =>
    fc.tuple(
      ...[...segments]
        .sort((a, b) => a - b)
        .map((segment) =>
          fc
            .integer({ min: 40, max: SIZE - 1 })
            .map((offset) => segmentStartLsn(BigInt(segment), SIZE) + BigInt(offset)),
        ),
    ),
  );

/** A bucket whose stored segments span some of segments 0..70. */
export const walBucketArbitrary = fc
  .tuple(switchesArbitrary, fc.integer({ min: 0, max: 30 }), fc.integer({ min: 1, max: 40 }))
  .map(([switches, first, length]) => bucketOf(switches, BigInt(first), BigInt(first + length)));
