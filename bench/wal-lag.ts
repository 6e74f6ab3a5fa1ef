/**
 * What bench/wal computes from its samples, pure: each second the primary's current LSN and
 * the end of the WAL a tool has in the bucket. The lag in bytes is their difference; the lag
 * in seconds is how long ago the primary was where the bucket is now (read off the primary's
 * own LSN samples, interpolated between two of them), so both tools are judged by one clock.
 */

/** One sample: when, the primary's current LSN, the end of the WAL in the bucket. */
export interface WalSample {
  readonly atMs: number;
  readonly primaryLsn: bigint;
  readonly archivedLsn: bigint;
}

/** The lag of each sample, and their summary over a run. */
export interface LagSummary {
  readonly generatedBytesPerSecond: number;
  readonly archivedBytesPerSecond: number;
  readonly maxLagBytes: number;
  readonly medianLagBytes: number;
  readonly maxLagSeconds: number;
  readonly medianLagSeconds: number;
}

/** The median of some numbers; 0 for none. */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  if (sorted.length === 0) return 0;
  return sorted.length % 2 === 1
    ? (sorted[middle] ?? 0)
    : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
}

/**
 * When the primary's LSN first reached `lsn`, by the samples up to `last` (interpolated
 * linearly between the two samples around it); the first sample's time when it was already
 * there at the first sample.
 */
export function reachedAtMs(samples: readonly WalSample[], lsn: bigint, last: number): number {
  let previous: WalSample | undefined;
  for (const sample of samples.slice(0, last + 1)) {
    if (sample.primaryLsn >= lsn) {
      if (previous === undefined) return sample.atMs;
      const span = Number(sample.primaryLsn - previous.primaryLsn);
      const part = span === 0 ? 1 : Number(lsn - previous.primaryLsn) / span;
      return previous.atMs + part * (sample.atMs - previous.atMs);
    }
    previous = sample;
  }
  return samples[last]?.atMs ?? 0;
}

/** Seconds the bucket was behind the primary at sample `index` (0 when caught up). */
export function lagSecondsAt(samples: readonly WalSample[], index: number): number {
  const sample = samples[index];
  if (sample === undefined || sample.archivedLsn >= sample.primaryLsn) return 0;
  return Math.max(0, (sample.atMs - reachedAtMs(samples, sample.archivedLsn, index)) / 1000);
}

/** The rates and lags of a run's samples (at least two, in time order). */
export function summarizeLag(samples: readonly WalSample[]): LagSummary {
  const first = samples[0];
  const last = samples.at(-1);
  if (first === undefined || last === undefined || last.atMs <= first.atMs) {
    throw new Error('summarizeLag needs at least two samples at different times');
  }
  const seconds = (last.atMs - first.atMs) / 1000;
  const lagBytes = samples.map((sample) =>
    Number(sample.primaryLsn > sample.archivedLsn ? sample.primaryLsn - sample.archivedLsn : 0n),
  );
  const lagSeconds = samples.map((_, index) => lagSecondsAt(samples, index));
  return {
    generatedBytesPerSecond: Number(last.primaryLsn - first.primaryLsn) / seconds,
    archivedBytesPerSecond: Number(last.archivedLsn - first.archivedLsn) / seconds,
    maxLagBytes: Math.max(...lagBytes),
    medianLagBytes: median(lagBytes),
    maxLagSeconds: Math.max(...lagSeconds),
    medianLagSeconds: median(lagSeconds),
  };
}
