/**
 * The gaps of a time zone: the stretches of wall-clock time that never happen because the
 * clocks spring forward over them (daylight saving time, or a zone moving to a later offset).
 */
import { MS_PER_DAY } from './local-date.js';
import { offsetMsAt } from './time-zone.js';

/** One spring-forward transition: wall-clock times in `[startWallMs, endWallMs)` never happen. */
export interface ZoneGap {
  /** The wall time (as UTC milliseconds) at which the clocks jump forward. */
  readonly startWallMs: number;
  /** The wall time the clocks jump to. */
  readonly endWallMs: number;
}

/**
 * The years scanned for gaps. A CronJob's schedule must not depend on the day it is rendered,
 * so the scan covers a fixed span: from the epoch of the period numbers to the end of the
 * century, which the zone database extends from each zone's current rules.
 */
export const GAP_SCAN_FROM_MS = Date.UTC(1970, 0, 1);
export const GAP_SCAN_TO_MS = Date.UTC(2100, 0, 1);

// Scanning a zone costs some 50 ms; the answer never changes within a process.
const gapsByZone = new Map<string, readonly ZoneGap[]>();

/** Every gap of `timeZone` between 1970 and 2100, earliest first. */
export function gapsOf(timeZone: string): readonly ZoneGap[] {
  let gaps = gapsByZone.get(timeZone);
  if (gaps === undefined) {
    gaps = scanGaps(timeZone);
    gapsByZone.set(timeZone, gaps);
  }
  return gaps;
}

function scanGaps(timeZone: string): readonly ZoneGap[] {
  const gaps: ZoneGap[] = [];
  // Sampling once a day misses only a zone that changes its offset and back within one day.
  let previousMs = GAP_SCAN_FROM_MS;
  let previousOffset = offsetMsAt(timeZone, previousMs);
  for (let sampleMs = previousMs + MS_PER_DAY; sampleMs <= GAP_SCAN_TO_MS; sampleMs += MS_PER_DAY) {
    const offset = offsetMsAt(timeZone, sampleMs);
    if (offset > previousOffset) {
      const atMs = findTransition({ timeZone, fromMs: previousMs, toMs: sampleMs });
      gaps.push({ startWallMs: atMs + previousOffset, endWallMs: atMs + offset });
    }
    previousMs = sampleMs;
    previousOffset = offset;
  }
  return gaps;
}

interface TransitionSearch {
  readonly timeZone: string;
  readonly fromMs: number;
  readonly toMs: number;
}

/** The first second in `(fromMs, toMs]` whose offset differs from the offset at `fromMs`. */
function findTransition({ timeZone, fromMs, toMs }: TransitionSearch): number {
  const before = offsetMsAt(timeZone, fromMs);
  let low = fromMs;
  let high = toMs;
  while (high - low > 1000) {
    const middle = low + Math.floor((high - low) / 2000) * 1000;
    if (offsetMsAt(timeZone, middle) === before) {
      low = middle;
    } else {
      high = middle;
    }
  }
  return high;
}
