/**
 * WAL continuity over the bucket: which stretch of WAL a recovery can replay from the files
 * stored, along the timelines that lead to the newest, and where WAL is missing. Pure: the
 * receiver (its `Gap` state), `wal-status`, WAL retention and the tests all ask this module.
 *
 * The model is how PostgreSQL's recovery reads an archive with `recovery_target_timeline =
 * latest`:
 * - The newest timeline is found by probing history files upward from the lowest timeline
 *   stored: 2, 3, … until one is missing. Segments on timelines above that are unreachable.
 * - The newest timeline's history names its ancestors and where each ended (the switch LSN).
 *   That chain is the path; timeline `t` owns the LSNs `[begin_t, end_t)`.
 * - For segment `s`, recovery opens the newest timeline on the path whose first segment is at
 *   or before `s`. A timeline's first segment (the one holding its switch LSN) begins with its
 *   parent's WAL, copied at promotion; the parent's last segment, often only a `.partial`, is
 *   therefore not needed when the child's first segment is there.
 * So a file of timeline `t` and segment `s` on the path holds the path's WAL from the start of
 * `s` up to the end of `s`, `end_t`, or (a `.partial`) its end LSN, whichever comes first.
 */
import {
  parseWalFileName,
  segmentOf,
  segmentStartLsn,
  type TimelineSwitch,
  type WalFile,
} from './wal-names.js';

/** One object of the bucket's WAL, as continuity needs it. */
export interface WalListingEntry {
  /** The file name (no key prefix), e.g. `000000010000000000000003.zst.partial`. */
  readonly name: string;
  /** A `.partial`'s end of real WAL (its `end-lsn` metadata): it is padded with zeros. */
  readonly endLsn?: bigint | undefined;
}

/** One timeline of the path and the LSNs it owns. */
export interface TimelineStretch {
  readonly timeline: number;
  readonly beginLsn: bigint;
  /** Where the next timeline of the path begins; undefined for the newest. */
  readonly endLsn: bigint | undefined;
}

/** WAL a recovery can replay without interruption: `[fromLsn, toLsn)`. */
export interface WalRange {
  readonly fromLsn: bigint;
  readonly toLsn: bigint;
  /** The timelines whose files make it up, ascending. */
  readonly timelines: readonly number[];
}

/** WAL missing between two ranges. */
export interface WalGap {
  /** The timeline of the path that owns `fromLsn`. */
  readonly timeline: number;
  readonly fromLsn: bigint;
  readonly toLsn: bigint;
}

/** What the bucket's WAL allows a recovery to replay. */
export interface WalContinuity {
  /** The newest timeline recovery reaches; undefined when there is no WAL at all. */
  readonly newestTimeline: number | undefined;
  /** The timelines that lead to the newest, oldest first. */
  readonly path: readonly TimelineStretch[];
  /** Covered stretches along the path, in LSN order, never adjacent. */
  readonly ranges: readonly WalRange[];
  /** The holes between consecutive ranges. */
  readonly gaps: readonly WalGap[];
  /** The end of the newest range: as far as the bucket's WAL reaches. */
  readonly newestLsn: bigint | undefined;
  /**
   * Timelines that have segments but lie beyond a missing history file, which recovery
   * therefore never follows (the history file of the first of them is missing).
   */
  readonly unreachableTimelines: readonly number[];
  /** Names that are not WAL files (left alone by everything). */
  readonly foreign: readonly string[];
}

/** What {@link assessWalContinuity} reads. */
export interface WalContinuityInput {
  readonly files: readonly WalListingEntry[];
  /** The parsed history file of each timeline that has one in the bucket. */
  readonly histories: ReadonlyMap<number, readonly TimelineSwitch[]>;
  readonly segmentSize: number;
}

type SegmentFile = Extract<WalFile, { kind: 'segment' }>;

/** The newest timeline recovery reaches from `lowest`, probing history files upward. */
function newestTimelineFrom(lowest: number, histories: WalContinuityInput['histories']): number {
  let newest = lowest;
  while (histories.has(newest + 1)) newest += 1;
  return newest;
}

/** The path to `newest`: its history's ancestors, then itself. */
export function timelinePathOf(
  newest: number,
  histories: WalContinuityInput['histories'],
): TimelineStretch[] {
  const switches = histories.get(newest) ?? [];
  const path: TimelineStretch[] = [];
  let beginLsn = 0n;
  for (const { parentTimeline, switchLsn } of switches) {
    path.push({ timeline: parentTimeline, beginLsn, endLsn: switchLsn });
    beginLsn = switchLsn;
  }
  path.push({ timeline: newest, beginLsn, endLsn: undefined });
  return path;
}

/** The path's WAL a file holds, or undefined when recovery never reads it. */
function coverageOf(
  file: SegmentFile,
  endLsn: bigint | undefined,
  stretch: TimelineStretch,
  segmentSize: number,
): { fromLsn: bigint; toLsn: bigint } | undefined {
  if (file.segment < segmentOf(stretch.beginLsn, segmentSize)) return undefined;
  const fromLsn = segmentStartLsn(file.segment, segmentSize);
  let toLsn = segmentStartLsn(file.segment + 1n, segmentSize);
  if (stretch.endLsn !== undefined && stretch.endLsn < toLsn) toLsn = stretch.endLsn;
  if (file.partial) {
    // A partial's real end is known only from its metadata; without it nothing is proven.
    if (endLsn === undefined) return undefined;
    if (endLsn < toLsn) toLsn = endLsn;
  }
  return toLsn > fromLsn ? { fromLsn, toLsn } : undefined;
}

function mergeRanges(pieces: { fromLsn: bigint; toLsn: bigint; timeline: number }[]): WalRange[] {
  pieces.sort((a, b) => (a.fromLsn < b.fromLsn ? -1 : a.fromLsn > b.fromLsn ? 1 : 0));
  const ranges: { fromLsn: bigint; toLsn: bigint; timelines: Set<number> }[] = [];
  for (const piece of pieces) {
    const last = ranges.at(-1);
    if (last !== undefined && piece.fromLsn <= last.toLsn) {
      if (piece.toLsn > last.toLsn) last.toLsn = piece.toLsn;
      last.timelines.add(piece.timeline);
    } else {
      ranges.push({ ...piece, timelines: new Set([piece.timeline]) });
    }
  }
  return ranges.map(({ fromLsn, toLsn, timelines }) => ({
    fromLsn,
    toLsn,
    timelines: [...timelines].sort((a, b) => a - b),
  }));
}

/** The timeline of the path that owns `lsn`. */
export function timelineAt(path: readonly TimelineStretch[], lsn: bigint): number {
  const stretch = path.find(({ endLsn }) => endLsn === undefined || lsn < endLsn);
  return (stretch ?? path.at(-1))?.timeline ?? 1;
}

/** Reads the bucket's WAL as recovery would: the path, the ranges it can replay, the gaps. */
export function assessWalContinuity(input: WalContinuityInput): WalContinuity {
  const segments: { file: SegmentFile; endLsn: bigint | undefined }[] = [];
  const foreign: string[] = [];
  for (const entry of input.files) {
    const file = parseWalFileName(entry.name, input.segmentSize);
    if (file === undefined) foreign.push(entry.name);
    else if (file.kind === 'segment') segments.push({ file, endLsn: entry.endLsn });
  }
  const timelines = [...segments.map(({ file }) => file.timeline), ...[...input.histories.keys()]];
  if (timelines.length === 0) {
    return {
      newestTimeline: undefined,
      path: [],
      ranges: [],
      gaps: [],
      newestLsn: undefined,
      unreachableTimelines: [],
      foreign,
    };
  }
  const lowestSegmentTimeline = Math.min(
    ...segments.map(({ file }) => file.timeline),
    Number.POSITIVE_INFINITY,
  );
  const lowest = Number.isFinite(lowestSegmentTimeline) ? lowestSegmentTimeline : 1;
  const newest = newestTimelineFrom(lowest, input.histories);
  const path = timelinePathOf(newest, input.histories);
  const onPath = new Map(path.map((stretch) => [stretch.timeline, stretch]));
  const pieces: { fromLsn: bigint; toLsn: bigint; timeline: number }[] = [];
  for (const { file, endLsn } of segments) {
    const stretch = onPath.get(file.timeline);
    if (stretch === undefined) continue;
    const covered = coverageOf(file, endLsn, stretch, input.segmentSize);
    if (covered !== undefined) pieces.push({ ...covered, timeline: file.timeline });
  }
  const ranges = mergeRanges(pieces);
  const gaps = ranges.slice(1).map((after, index) => {
    const fromLsn = ranges[index]?.toLsn ?? after.fromLsn;
    return { timeline: timelineAt(path, fromLsn), fromLsn, toLsn: after.fromLsn };
  });
  const unreachableTimelines = [
    ...new Set(segments.map(({ file }) => file.timeline).filter((timeline) => timeline > newest)),
  ].sort((a, b) => a - b);
  return {
    newestTimeline: newest,
    path,
    ranges,
    gaps,
    newestLsn: ranges.at(-1)?.toLsn,
    unreachableTimelines,
    foreign,
  };
}

/** Continuity seen from one starting point (a backup's end): how far replay gets, what is missing. */
export interface WalReach {
  /** Replay from the start point gets this far without a hole (the start point itself if no WAL follows it). */
  readonly reachableLsn: bigint;
  /**
   * Every hole after the start point, oldest first; the first one begins at the start point
   * when no stored WAL covers it but some follows it.
   */
  readonly gaps: readonly WalGap[];
}

/** How far replay from `startLsn` (the end of a binary backup, which carries its own WAL) gets. */
export function reachFrom(continuity: WalContinuity, startLsn: bigint): WalReach {
  const { ranges, path } = continuity;
  const gaps: WalGap[] = [];
  let reachableLsn = startLsn;
  let blocked = false;
  let position = startLsn;
  for (const range of ranges) {
    if (range.toLsn <= startLsn) continue;
    if (range.fromLsn > position) {
      gaps.push({ timeline: timelineAt(path, position), fromLsn: position, toLsn: range.fromLsn });
      blocked = true;
    }
    if (!blocked) reachableLsn = range.toLsn;
    position = range.toLsn;
  }
  return { reachableLsn, gaps };
}
