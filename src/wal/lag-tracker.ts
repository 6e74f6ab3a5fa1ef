/**
 * How far the bucket is behind the primary, in bytes and in seconds. Seconds are measured
 * from samples of the primary's current LSN: the lag is the age of the oldest sample the
 * bucket has not reached yet (0 once it has reached every sample). Pure: the caller passes
 * the time of each sample.
 */

interface Sample {
  readonly atMs: number;
  readonly lsn: bigint;
}

/** The lag of the bucket behind the primary. */
export interface Lag {
  readonly bytes: number;
  readonly seconds: number;
}

/** Samples kept at most; at one a second, an hour of an unreachable bucket. */
const MAX_SAMPLES = 3600;

/** Tracks the primary's position against the bucket's end. */
export class LagTracker {
  private readonly samples: Sample[] = [];
  private primaryLsn: bigint | undefined;

  /** Records the primary's current LSN at `atMs`. */
  samplePrimary(lsn: bigint, atMs: number): void {
    this.primaryLsn = lsn;
    const last = this.samples.at(-1);
    if (last !== undefined && last.lsn >= lsn) return;
    this.samples.push({ atMs, lsn });
    // Thinned rather than cut: the oldest sample is the one that says how old the lag is.
    if (this.samples.length > MAX_SAMPLES) this.samples.splice(1, 1);
  }

  /** The lag at `nowMs` of a bucket whose WAL ends at `archivedLsn`; undefined before any sample. */
  lagAt(archivedLsn: bigint | undefined, nowMs: number): Lag | undefined {
    if (this.primaryLsn === undefined) return undefined;
    const end = archivedLsn ?? 0n;
    while (this.samples.length > 0 && (this.samples[0]?.lsn ?? 0n) <= end) this.samples.shift();
    const oldest = this.samples[0];
    const bytes = this.primaryLsn > end ? Number(this.primaryLsn - end) : 0;
    const seconds = oldest === undefined ? 0 : Math.max(0, (nowMs - oldest.atMs) / 1000);
    return { bytes, seconds };
  }

  /** Forgets the samples (a new primary, whose positions may not follow the old one's). */
  reset(): void {
    this.samples.length = 0;
    this.primaryLsn = undefined;
  }
}
