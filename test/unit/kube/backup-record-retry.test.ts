import { describe, expect, it } from 'vitest';
import { type BackupRecord, updateUntilRecorded } from '../../../src/kube/backup-record.js';
import { KubeApiError, KubeConnectionError } from '../../../src/kube/kube-errors.js';

/** A record whose first updates fail with `errors`, in turn, then succeed; counts the calls. */
function flakyRecord(errors: readonly unknown[]): BackupRecord & { readonly calls: () => number } {
  let calls = 0;
  return {
    name: 'b',
    calls: () => calls,
    update: async () => {
      calls += 1;
      if (calls <= errors.length) throw errors[calls - 1];
    },
  };
}

const quick = { retryForMs: 60_000, backoff: { baseMs: 1, maxMs: 2 } };
const unreachable = () => new KubeConnectionError('update: connect ECONNREFUSED');

describe('updateUntilRecorded', () => {
  it('retries through an outage (no answer, then 503) and records once the server answers', async () => {
    const record = flakyRecord([unreachable(), unreachable(), new KubeApiError('update', 503, {})]);
    const retried: number[] = [];
    await updateUntilRecorded(record, { phase: 'Completed' }, quick, (_error, delayMs) =>
      retried.push(delayMs),
    );
    expect(record.calls()).toBe(4);
    expect(retried).toHaveLength(3);
  });

  it('throws a permanent error at once, without retrying', async () => {
    const record = flakyRecord([new KubeApiError('update', 404, { reason: 'NotFound' })]);
    await expect(updateUntilRecorded(record, { phase: 'Completed' }, quick)).rejects.toThrow(
      KubeApiError,
    );
    expect(record.calls()).toBe(1);
  });

  it('gives up with the last error once its time is up', async () => {
    const record = flakyRecord(Array.from({ length: 10_000 }, unreachable));
    const shortly = { retryForMs: 20, backoff: { baseMs: 5, maxMs: 5 } };
    await expect(updateUntilRecorded(record, { phase: 'Completed' }, shortly)).rejects.toThrow(
      /ECONNREFUSED/,
    );
    expect(record.calls()).toBeGreaterThan(1);
    expect(record.calls()).toBeLessThan(10_000);
  });
});
