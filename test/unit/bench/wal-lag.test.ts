import { describe, expect, it } from 'vitest';
import {
  lagSecondsAt,
  median,
  reachedAtMs,
  summarizeLag,
  type WalSample,
} from '../../../bench/wal-lag.js';

const MiB = 1024n * 1024n;

/** The primary writing 1 MiB a second from LSN 0; the bucket at `archived[i]` MiB at second i. */
function samplesOf(archived: readonly number[]): WalSample[] {
  return archived.map((mib, second) => ({
    atMs: second * 1000,
    primaryLsn: BigInt(second) * MiB,
    archivedLsn: BigInt(mib) * MiB,
  }));
}

describe('bench/wal lag', () => {
  it('reads when the primary reached an LSN off its samples, interpolating between two', () => {
    const samples = samplesOf([0, 0, 0, 0]);
    expect(reachedAtMs(samples, 2n * MiB, 3)).toBe(2000);
    expect(reachedAtMs(samples, MiB + MiB / 2n, 3)).toBe(1500);
    expect(reachedAtMs(samples, 0n, 3)).toBe(0);
  });

  it('counts a bucket that has caught up as no lag, and one a segment behind as the time since', () => {
    const samples = samplesOf([0, 1, 1, 1, 4]);
    expect(lagSecondsAt(samples, 1)).toBe(0);
    expect(lagSecondsAt(samples, 3)).toBe(2);
    expect(lagSecondsAt(samples, 4)).toBe(0);
  });

  it('summarizes rates, and the largest and median lag in bytes and seconds', () => {
    const summary = summarizeLag(samplesOf([0, 0, 0, 3, 3, 3, 6]));
    expect(summary.generatedBytesPerSecond).toBe(Number(MiB));
    expect(summary.archivedBytesPerSecond).toBe(Number(MiB));
    expect(summary.maxLagBytes).toBe(Number(2n * MiB));
    expect(summary.maxLagSeconds).toBe(2);
    expect(summary.medianLagBytes).toBe(Number(MiB));
    expect(summary.medianLagSeconds).toBe(1);
  });

  it('refuses fewer than two samples', () => {
    expect(() => summarizeLag(samplesOf([0]))).toThrow(/at least two samples/);
  });

  it('takes the median of an even count as the mean of the middle two', () => {
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([])).toBe(0);
  });
});
