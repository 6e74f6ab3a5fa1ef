/**
 * Exponential backoff with jitter: how long to wait before the next attempt after `failures`
 * failures. Jitter spreads the retries of many keys (or many controllers) that failed at one
 * instant, so they do not all come back at the same moment and fail together again.
 */

/** How much of a delay jitter may take off, when a policy does not say. */
export const DEFAULT_JITTER_RATIO = 0.2;

/** Bounds of an exponential backoff. */
export interface BackoffPolicy {
  readonly baseMs: number;
  readonly maxMs: number;
  /**
   * The share of each delay taken off at random, in [0, 1): a delay lies in
   * `[d·(1 − jitterRatio), d]`. Defaults to {@link DEFAULT_JITTER_RATIO}; 0 turns jitter off.
   */
  readonly jitterRatio?: number;
}

/**
 * `baseMs · 2^(failures - 1)`, at most `maxMs`, less a random share of at most `jitterRatio`;
 * 0 before the first failure. Jitter only shortens, so `maxMs` stays a true upper bound.
 *
 * @param random a source of numbers in [0, 1), injected by tests
 */
export function backoffDelayMs(
  policy: BackoffPolicy,
  failures: number,
  random: () => number = Math.random,
): number {
  if (failures <= 0) return 0;
  const delayMs = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.min(failures - 1, 30));
  const ratio = Math.min(Math.max(policy.jitterRatio ?? DEFAULT_JITTER_RATIO, 0), 1);
  return Math.round(delayMs * (1 - ratio * random()));
}

/**
 * Waits `delayMs`, or less when `signal` aborts; resolves either way, never rejects. The abort
 * listener is removed when the wait ends, so a loop that waits on one long-lived signal
 * (an informer's retries) does not pile up one listener per wait.
 */
export function sleepUnlessAborted(delayMs: number, signal: AbortSignal): Promise<void> {
  return new Promise<void>((resolve) => {
    if (signal.aborted) {
      resolve();
      return;
    }
    const finish = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', finish);
      resolve();
    };
    const timer = setTimeout(finish, delayMs);
    signal.addEventListener('abort', finish, { once: true });
  });
}
