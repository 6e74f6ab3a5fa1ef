/** Which requests the client may send twice, and how it reads `Retry-After`. */
import { describe, expect, it } from 'vitest';
import { isIdempotentRequest, retryAfterMsOf } from '../../../src/kube/kube-client.js';
import {
  isTransient,
  KubeApiError,
  KubeConnectionError,
  KubeRequestAbortedError,
} from '../../../src/kube/kube-errors.js';

describe('isIdempotentRequest', () => {
  it('reads, watches and deletes are safe to send twice', () => {
    for (const verb of ['get', 'list', 'watch', 'delete'] as const) {
      expect(isIdempotentRequest({ verb })).toBe(true);
    }
  });

  it('a replace only with a resourceVersion (a replay meets 409, never overwrites)', () => {
    const lease = { metadata: { name: 'l', resourceVersion: '42' }, spec: {} };
    expect(isIdempotentRequest({ verb: 'update', body: lease })).toBe(true);
    expect(isIdempotentRequest({ verb: 'update', body: { metadata: { name: 'l' } } })).toBe(false);
    expect(
      isIdempotentRequest({ verb: 'update', body: { metadata: { resourceVersion: '' } } }),
    ).toBe(false);
  });

  it('apply and merge patches are, JSON patches and creates are not', () => {
    expect(
      isIdempotentRequest({ verb: 'patch', contentType: 'application/apply-patch+yaml' }),
    ).toBe(true);
    expect(
      isIdempotentRequest({ verb: 'patch', contentType: 'application/merge-patch+json' }),
    ).toBe(true);
    expect(isIdempotentRequest({ verb: 'patch', contentType: 'application/json-patch+json' })).toBe(
      false,
    );
    expect(isIdempotentRequest({ verb: 'create', body: { metadata: { name: 'fixed' } } })).toBe(
      false,
    );
  });
});

describe('retryAfterMsOf', () => {
  const nowMs = Date.parse('2026-12-03T10:00:00Z');

  it('reads delay-seconds and HTTP dates, and nothing else', () => {
    expect(retryAfterMsOf('3', nowMs)).toBe(3000);
    expect(retryAfterMsOf(' 0 ', nowMs)).toBe(0);
    expect(retryAfterMsOf('Thu, 03 Dec 2026 10:00:05 GMT', nowMs)).toBe(5000);
    expect(retryAfterMsOf('Thu, 03 Dec 2026 09:59:00 GMT', nowMs)).toBe(0);
    expect(retryAfterMsOf(undefined, nowMs)).toBeUndefined();
    expect(retryAfterMsOf('soon', nowMs)).toBeUndefined();
    expect(retryAfterMsOf(['2', '9'], nowMs)).toBe(2000);
  });
});

describe('isTransient', () => {
  it('429 and 5xx answers and lost connections are; 4xx and an abandoned request are not', () => {
    const answer = (code: number) => new KubeApiError('get x', code, {});
    expect([429, 500, 502, 503, 504].map((code) => isTransient(answer(code)))).toEqual([
      true,
      true,
      true,
      true,
      true,
    ]);
    expect([400, 403, 404, 409, 410, 422, 501].some((code) => isTransient(answer(code)))).toBe(
      false,
    );
    expect(isTransient(new KubeConnectionError('get x: socket hang up'))).toBe(true);
    expect(isTransient(new KubeRequestAbortedError('get x: abandoned'))).toBe(false);
  });
});
