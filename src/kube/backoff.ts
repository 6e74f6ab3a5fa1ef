/** Exponential backoff: how long to wait before the next attempt after `failures` failures. */

/** Bounds of an exponential backoff. */
export interface BackoffPolicy {
  readonly baseMs: number;
  readonly maxMs: number;
}

/** `baseMs · 2^(failures - 1)`, at most `maxMs`; 0 before the first failure. */
export function backoffDelayMs(policy: BackoffPolicy, failures: number): number {
  if (failures <= 0) return 0;
  return Math.min(policy.maxMs, policy.baseMs * 2 ** Math.min(failures - 1, 30));
}
