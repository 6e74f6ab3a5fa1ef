import { describe, expect, it } from 'vitest';
import { LagTracker } from '../../../src/wal/lag-tracker.js';

describe('the lag of the bucket behind the primary', () => {
  it('is unknown before the primary was sampled', () => {
    expect(new LagTracker().lagAt(100n, 0)).toBeUndefined();
  });

  it('counts bytes to the primary and seconds since the oldest position the bucket lacks', () => {
    const lag = new LagTracker();
    lag.samplePrimary(1_000n, 0);
    lag.samplePrimary(2_000n, 1_000);
    lag.samplePrimary(3_000n, 2_000);
    expect(lag.lagAt(500n, 5_000)).toEqual({ bytes: 2_500, seconds: 5 });
    // The bucket reached the first sample: the lag is the second one's age.
    expect(lag.lagAt(1_500n, 5_000)).toEqual({ bytes: 1_500, seconds: 4 });
  });

  it('is zero seconds once the bucket holds every sampled position', () => {
    const lag = new LagTracker();
    lag.samplePrimary(1_000n, 0);
    expect(lag.lagAt(1_000n, 60_000)).toEqual({ bytes: 0, seconds: 0 });
  });

  it('keeps the oldest unreached sample however many follow', () => {
    const lag = new LagTracker();
    for (let second = 0; second < 5_000; second += 1) {
      lag.samplePrimary(BigInt(1_000 + second), second * 1_000);
    }
    expect(lag.lagAt(0n, 5_000_000)?.seconds).toBe(5_000);
  });

  it('forgets a former primary after a reset', () => {
    const lag = new LagTracker();
    lag.samplePrimary(1_000n, 0);
    lag.reset();
    expect(lag.lagAt(0n, 10_000)).toBeUndefined();
  });
});
