/**
 * The queue's delayed adds under fake timers: a later add with an earlier deadline wins, so
 * an error retry never waits behind a long recheck (issue 14, finding 5).
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { WorkQueue } from '../../../src/kube/work-queue.js';

/** Whether the queue hands out a key before the current fake time moves on. */
async function handedOut(queue: WorkQueue): Promise<string | undefined> {
  const next = queue.get();
  const nothing = Symbol('nothing');
  const winner = await Promise.race([next, Promise.resolve(nothing)]);
  if (winner === nothing) {
    // Leave no waiter behind: a shut-down queue resolves it with undefined.
    return undefined;
  }
  return winner as string | undefined;
}

describe('WorkQueue deadlines', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('keeps the earliest deadline: addAfter(2000) then addRateLimited (500 ms) hands the key out at 500 ms', async () => {
    const queue = new WorkQueue({ baseMs: 500, maxMs: 10_000, jitterRatio: 0 });
    queue.addAfter('ns/a', 2000);
    queue.addRateLimited('ns/a');
    await vi.advanceTimersByTimeAsync(499);
    expect(queue.depth).toBe(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(queue.depth).toBe(1);
    expect(await handedOut(queue)).toBe('ns/a');
    queue.done('ns/a');
    // The superseded 2000 ms timer is gone, not a second delivery.
    await vi.advanceTimersByTimeAsync(5000);
    expect(queue.depth).toBe(0);
    queue.shutDown();
  });

  it('keeps an earlier deadline when a later one is asked for', async () => {
    const queue = new WorkQueue();
    queue.addAfter('ns/a', 300);
    queue.addAfter('ns/a', 30_000);
    await vi.advanceTimersByTimeAsync(300);
    expect(queue.depth).toBe(1);
    expect(await handedOut(queue)).toBe('ns/a');
    queue.done('ns/a');
    await vi.advanceTimersByTimeAsync(60_000);
    expect(queue.depth).toBe(0);
    queue.shutDown();
  });

  it('an add now cancels nothing it need not: a key queued now and due later is handed out once now, once later', async () => {
    const queue = new WorkQueue();
    queue.addAfter('ns/a', 1000);
    queue.add('ns/a');
    expect(await handedOut(queue)).toBe('ns/a');
    queue.done('ns/a');
    await vi.advanceTimersByTimeAsync(1000);
    expect(await handedOut(queue)).toBe('ns/a');
    queue.done('ns/a');
    queue.shutDown();
  });

  it('spreads rate-limited retries of many keys (jitter) within the bounds of the backoff', async () => {
    const queue = new WorkQueue({ baseMs: 1000, maxMs: 10_000, jitterRatio: 0.5 });
    const keys = Array.from({ length: 40 }, (_, index) => `ns/k${index}`);
    for (const key of keys) queue.addRateLimited(key);
    // Downward jitter: every delay lies in [500, 1000] ms.
    await vi.advanceTimersByTimeAsync(499);
    expect(queue.depth).toBe(0);
    await vi.advanceTimersByTimeAsync(250);
    const early = queue.depth;
    await vi.advanceTimersByTimeAsync(251);
    expect(queue.depth).toBe(keys.length);
    // Not all at one instant: some came in the first half of the window, some after.
    expect(early).toBeGreaterThan(0);
    expect(early).toBeLessThan(keys.length);
    queue.shutDown();
  });
});
