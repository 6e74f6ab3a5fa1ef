import { describe, expect, it } from 'vitest';
import { WorkQueue } from '../../../src/kube/work-queue.js';

describe('WorkQueue', () => {
  it('collapses a burst of adds of one key into one item', async () => {
    const queue = new WorkQueue();
    queue.add('ns/a');
    queue.add('ns/a');
    queue.add('ns/b');
    queue.add('ns/a');
    expect(queue.depth).toBe(2);
    expect(await queue.get()).toBe('ns/a');
    expect(await queue.get()).toBe('ns/b');
    expect(queue.depth).toBe(0);
  });

  it('never hands one key to two workers; a key added while processed comes back after', async () => {
    const queue = new WorkQueue();
    queue.add('ns/a');
    const key = await queue.get();
    queue.add('ns/a');
    expect(queue.depth).toBe(0);
    queue.done(key ?? '');
    expect(queue.depth).toBe(1);
    expect(await queue.get()).toBe('ns/a');
  });

  it('hands a key to a waiting worker at once', async () => {
    const queue = new WorkQueue();
    const waiting = queue.get();
    queue.add('ns/a');
    expect(await waiting).toBe('ns/a');
  });

  it('retries a failing key with exponential backoff, reset by success', async () => {
    const queue = new WorkQueue({ baseMs: 20, maxMs: 1000 });
    queue.add('ns/a');
    const key = (await queue.get()) ?? '';
    queue.done(key);
    const started = Date.now();
    queue.addRateLimited(key);
    expect(queue.depth).toBe(0);
    expect(await queue.get()).toBe(key);
    expect(Date.now() - started).toBeGreaterThanOrEqual(15);
    queue.done(key);
    queue.forget(key);
    queue.shutDown();
    expect(await queue.get()).toBeUndefined();
  });
});
