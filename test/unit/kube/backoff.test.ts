import { describe, expect, it } from 'vitest';
import { backoffDelayMs, DEFAULT_JITTER_RATIO } from '../../../src/kube/backoff.js';

describe('backoffDelayMs', () => {
  const policy = { baseMs: 1000, maxMs: 300_000 };

  it('doubles per failure up to the maximum (random 0: no jitter taken off)', () => {
    expect(
      [0, 1, 2, 3, 9, 10, 50].map((failures) => backoffDelayMs(policy, failures, () => 0)),
    ).toEqual([0, 1000, 2000, 4000, 256_000, 300_000, 300_000]);
  });

  it('takes off at most the jitter ratio, never more and never adding (bounded by maxMs)', () => {
    const ratio = DEFAULT_JITTER_RATIO;
    expect(ratio).toBeGreaterThan(0);
    expect(ratio).toBeLessThan(1);
    for (const failures of [1, 4, 10, 20]) {
      const full = backoffDelayMs(policy, failures, () => 0);
      const least = backoffDelayMs(policy, failures, () => 0.999_999);
      expect(least).toBeLessThan(full);
      expect(least).toBeGreaterThanOrEqual(Math.floor(full * (1 - ratio)));
      expect(full).toBeLessThanOrEqual(policy.maxMs);
    }
  });

  it('is deterministic under an injected random source and spreads with it', () => {
    const sequence = [0.1, 0.5, 0.9];
    let index = 0;
    const random = () => sequence[index++ % sequence.length] ?? 0;
    const delays = sequence.map(() => backoffDelayMs({ ...policy, jitterRatio: 0.5 }, 3, random));
    expect(delays).toEqual([3800, 3000, 2200]);
  });

  it('no jitter when the policy says 0', () => {
    expect(backoffDelayMs({ ...policy, jitterRatio: 0 }, 3, () => 0.7)).toBe(4000);
  });
});
