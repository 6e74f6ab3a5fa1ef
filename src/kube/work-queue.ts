/**
 * The work queue of controller-runtime in small: keys (`namespace/name`), not events. A key
 * added while it waits is not added twice; a key added while it is being processed is
 * processed again after, never by two workers at once. Failures come back with exponential
 * backoff (with jitter), and a success resets it.
 */
import { type BackoffPolicy, backoffDelayMs } from './backoff.js';

/** Defaults: 1 s doubling to 5 minutes, each delay shortened by up to a fifth at random. */
export const DEFAULT_QUEUE_BACKOFF: BackoffPolicy = {
  baseMs: 1000,
  maxMs: 300_000,
  jitterRatio: 0.2,
};

/** A de-duplicating queue of keys with delayed and rate-limited adds. */
export class WorkQueue {
  readonly #backoff: BackoffPolicy;
  readonly #queue: string[] = [];
  /** Keys waiting to be processed (in the queue, or to be re-queued when processing ends). */
  readonly #dirty = new Set<string>();
  readonly #processing = new Set<string>();
  readonly #failures = new Map<string, number>();
  /** Delayed adds: one timer per key, due at the earliest deadline asked for. */
  readonly #timers = new Map<string, { timer: NodeJS.Timeout; dueMs: number }>();
  #waiters: ((key: string | undefined) => void)[] = [];
  #shutDown = false;

  constructor(backoff: BackoffPolicy = DEFAULT_QUEUE_BACKOFF) {
    this.#backoff = backoff;
  }

  /** Keys waiting to be processed. */
  get depth(): number {
    return this.#queue.length;
  }

  /** Adds a key now. */
  add(key: string): void {
    if (this.#shutDown || this.#dirty.has(key)) return;
    this.#dirty.add(key);
    if (this.#processing.has(key)) return;
    const waiter = this.#waiters.shift();
    if (waiter !== undefined) {
      this.#dirty.delete(key);
      this.#processing.add(key);
      waiter(key);
      return;
    }
    this.#queue.push(key);
  }

  /**
   * Adds a key after a delay. Of several delayed adds of one key the earliest deadline wins:
   * an error retry due in 1 s must not wait behind a recheck due in 30 s.
   */
  addAfter(key: string, delayMs: number): void {
    if (this.#shutDown) return;
    if (delayMs <= 0) {
      this.add(key);
      return;
    }
    const dueMs = Date.now() + delayMs;
    const pending = this.#timers.get(key);
    if (pending !== undefined) {
      if (pending.dueMs <= dueMs) return;
      clearTimeout(pending.timer);
    }
    const timer = setTimeout(() => {
      this.#timers.delete(key);
      this.add(key);
    }, delayMs);
    timer.unref();
    this.#timers.set(key, { timer, dueMs });
  }

  /** Adds a key after the backoff its failures so far call for, and counts one more. */
  addRateLimited(key: string): void {
    const failures = (this.#failures.get(key) ?? 0) + 1;
    this.#failures.set(key, failures);
    this.addAfter(key, backoffDelayMs(this.#backoff, failures));
  }

  /** Forgets a key's failures: its next failure starts the backoff again. */
  forget(key: string): void {
    this.#failures.delete(key);
  }

  /** The next key to process, or undefined once the queue shuts down. */
  get(): Promise<string | undefined> {
    if (this.#shutDown) return Promise.resolve(undefined);
    const key = this.#queue.shift();
    if (key !== undefined) {
      this.#dirty.delete(key);
      this.#processing.add(key);
      return Promise.resolve(key);
    }
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  /** Marks a key processed; if it was added meanwhile, it is queued again. */
  done(key: string): void {
    this.#processing.delete(key);
    if (this.#dirty.delete(key)) this.add(key);
  }

  /** Stops handing out keys; waiting `get` calls resolve with undefined. */
  shutDown(): void {
    this.#shutDown = true;
    for (const { timer } of this.#timers.values()) clearTimeout(timer);
    this.#timers.clear();
    for (const waiter of this.#waiters) waiter(undefined);
    this.#waiters = [];
  }
}
