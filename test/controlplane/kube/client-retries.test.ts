/**
 * The client's retries against the real API server, through a fault proxy that answers
 * 429 (with Retry-After) or 503 a given number of times, holds a request, or breaks it, and
 * otherwise forwards (issue 14, finding 5).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  isTransient,
  KubeApiError,
  type KubeClient,
  KubeConnectionError,
  type RetryPolicy,
} from '../../../src/kube/index.js';
import {
  type HandledRequest,
  kubeErrorAnswer,
  type SeenRequest,
} from '../../harness/http-fault-proxy.js';
import { type ProxiedKube, startProxiedKube } from '../../harness/proxied-kube.js';

/** No jitter, short waits: the waits asked for are exact and recorded, not slept in full. */
const RETRY: RetryPolicy = {
  maxAttempts: 4,
  backoff: { baseMs: 100, maxMs: 1000, jitterRatio: 0 },
  deadlineMs: 30_000,
};

const CONFIG_MAPS = ['configmaps'];

describe('KubeClient retries transient failures of the real API server', () => {
  let kube: ProxiedKube;
  let client: KubeClient;
  const waits: number[] = [];

  beforeAll(async () => {
    kube = await startProxiedKube([
      { apiGroups: [''], resources: CONFIG_MAPS, verbs: ['*'] },
      { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['*'] },
    ]);
    client = await kube.client({
      retry: RETRY,
      // Record the wait, then wait a moment only: the test proves what was asked for.
      sleep: async (delayMs) => {
        waits.push(delayMs);
        await new Promise((resolve) => setTimeout(resolve, 10));
      },
    });
  });

  afterAll(async () => {
    await kube?.close();
  });

  const path = (name?: string) =>
    `/api/v1/namespaces/${kube.namespace}/configmaps${name === undefined ? '' : `/${name}`}`;
  const onPath = (method: string, name?: string) => (request: SeenRequest) =>
    request.method === method && request.url.split('?')[0] === path(name);
  const outcomesOf = (match: (request: SeenRequest) => boolean, since: number) =>
    kube.proxy.handled
      .slice(since)
      .filter((request: HandledRequest) => match(request))
      .map((request) => request.outcome);
  const createConfigMap = (name: string) =>
    client.request({
      verb: 'create',
      path: path(),
      body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data: { a: '1' } },
      what: `create ConfigMap ${name}`,
    });

  it('a get answered 429 with Retry-After twice waits as asked and then succeeds', async () => {
    await kube.admin.request({
      verb: 'create',
      path: path(),
      body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'read-me' } },
      what: 'create ConfigMap read-me',
    });
    const since = kube.proxy.handled.length;
    waits.length = 0;
    kube.proxy.addRule({
      match: onPath('GET', 'read-me'),
      action: kubeErrorAnswer(429, 'TooManyRequests', 2),
      times: 2,
    });
    const got = await client.request<{ metadata: { name: string } }>({
      verb: 'get',
      path: path('read-me'),
      what: 'get ConfigMap read-me',
    });
    expect(got.metadata.name).toBe('read-me');
    expect(waits).toEqual([2000, 2000]);
    expect(outcomesOf(onPath('GET', 'read-me'), since)).toEqual([429, 429, 200]);
  });

  it('a list answered 503 without Retry-After backs off and then succeeds', async () => {
    const since = kube.proxy.handled.length;
    waits.length = 0;
    kube.proxy.addRule({
      match: onPath('GET'),
      action: kubeErrorAnswer(503, 'ServiceUnavailable'),
      times: 2,
    });
    const list = await client.request<{ items: unknown[] }>({
      verb: 'list',
      path: path(),
      what: 'list ConfigMaps',
    });
    expect(list.items.length).toBeGreaterThan(0);
    expect(waits).toEqual([100, 200]);
    expect(outcomesOf(onPath('GET'), since)).toEqual([503, 503, 200]);
  });

  it('gives up after the attempts allowed and says so', async () => {
    const since = kube.proxy.handled.length;
    const remove = kube.proxy.addRule({
      match: onPath('GET', 'read-me'),
      action: kubeErrorAnswer(503, 'ServiceUnavailable'),
      times: Number.POSITIVE_INFINITY,
    });
    try {
      const failure = await client
        .request({ verb: 'get', path: path('read-me'), what: 'get ConfigMap read-me' })
        .catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(KubeApiError);
      expect((failure as KubeApiError).statusCode).toBe(503);
      expect((failure as Error).message).toContain('gave up after 4 attempts');
      expect(outcomesOf(onPath('GET', 'read-me'), since)).toEqual([503, 503, 503, 503]);
    } finally {
      remove();
    }
  });

  it('retries a create refused with 429 (nothing happened) but not one answered 503 (something may have)', async () => {
    let since = kube.proxy.handled.length;
    kube.proxy.addRule({
      match: onPath('POST'),
      action: kubeErrorAnswer(429, 'TooManyRequests', 0),
      times: 1,
    });
    await createConfigMap('made-once');
    expect(outcomesOf(onPath('POST'), since)).toEqual([429, 201]);

    since = kube.proxy.handled.length;
    kube.proxy.addRule({
      match: onPath('POST'),
      action: kubeErrorAnswer(503, 'ServiceUnavailable'),
      times: 1,
    });
    const failure = await createConfigMap('not-made').catch((error: unknown) => error);
    expect((failure as KubeApiError).statusCode).toBe(503);
    expect(outcomesOf(onPath('POST'), since)).toEqual([503]);
    const missing = await kube.admin
      .request({ verb: 'get', path: path('not-made'), what: 'get ConfigMap not-made' })
      .catch((error: unknown) => error);
    expect((missing as KubeApiError).statusCode).toBe(404);
  });

  it('retries a get whose connection broke before the answer', async () => {
    const since = kube.proxy.handled.length;
    kube.proxy.addRule({ match: onPath('GET', 'read-me'), action: { kind: 'hold' }, times: 1 });
    const got = client.request<{ metadata: { name: string } }>({
      verb: 'get',
      path: path('read-me'),
      what: 'get ConfigMap read-me',
    });
    await kube.proxy.waitForRequest(onPath('GET', 'read-me'), 10_000);
    // Drops the held request's connection: the client sees it break, not an answer.
    kube.proxy.clear();
    expect((await got).metadata.name).toBe('read-me');
    expect(outcomesOf(onPath('GET', 'read-me'), since)).toEqual(['held', 200]);
  });

  it('a request that hangs past its deadline fails as a lost connection, in one attempt', async () => {
    const since = kube.proxy.handled.length;
    const remove = kube.proxy.addRule({
      match: onPath('GET', 'read-me'),
      action: { kind: 'hold' },
      times: Number.POSITIVE_INFINITY,
    });
    try {
      const failure = await client
        .request({
          verb: 'get',
          path: path('read-me'),
          what: 'get ConfigMap read-me',
          deadlineMs: 1500,
        })
        .catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(KubeConnectionError);
      expect(isTransient(failure)).toBe(true);
      expect((failure as Error).message).toContain('no answer within');
      // The deadline left no time for a second attempt.
      expect(outcomesOf(onPath('GET', 'read-me'), since)).toEqual(['held']);
    } finally {
      remove();
      kube.proxy.clear();
    }
  });

  it('a replace with a resourceVersion is retried after 500; one without is not', async () => {
    const current = await client.request<{ metadata: Record<string, unknown> }>({
      verb: 'get',
      path: path('made-once'),
      what: 'get ConfigMap made-once',
    });
    const replace = (metadata: Record<string, unknown>, value: string) =>
      client.request<{ data: Record<string, string> }>({
        verb: 'update',
        path: path('made-once'),
        body: { apiVersion: 'v1', kind: 'ConfigMap', metadata, data: { a: value } },
        what: 'replace ConfigMap made-once',
      });
    let since = kube.proxy.handled.length;
    kube.proxy.addRule({
      match: onPath('PUT', 'made-once'),
      action: kubeErrorAnswer(500, 'InternalError'),
      times: 1,
    });
    expect((await replace(current.metadata, '2')).data.a).toBe('2');
    expect(outcomesOf(onPath('PUT', 'made-once'), since)).toEqual([500, 200]);

    since = kube.proxy.handled.length;
    kube.proxy.addRule({
      match: onPath('PUT', 'made-once'),
      action: kubeErrorAnswer(500, 'InternalError'),
      times: 1,
    });
    const failure = await replace({ name: 'made-once' }, '3').catch((error: unknown) => error);
    expect((failure as KubeApiError).statusCode).toBe(500);
    expect(outcomesOf(onPath('PUT', 'made-once'), since)).toEqual([500]);
  });

  it('opening a watch is retried after 429 and the watch then delivers events', async () => {
    const since = kube.proxy.handled.length;
    waits.length = 0;
    const isWatch = (request: SeenRequest) =>
      onPath('GET')(request) && request.url.includes('watch=true');
    kube.proxy.addRule({
      match: isWatch,
      action: kubeErrorAnswer(429, 'TooManyRequests', 0),
      times: 1,
    });
    const stop = new AbortController();
    const events = client.watch(
      { path: path(), query: { watch: 'true' }, what: 'watch ConfigMaps' },
      stop.signal,
    );
    const first = await events.next();
    stop.abort();
    await events.return(undefined);
    expect(first.value?.type).toBe('ADDED');
    // The first opening was refused (a forwarded watch is listed only once it ends): the event
    // came through a second one, after the wait the refusal asked for.
    expect(outcomesOf(isWatch, since)[0]).toBe(429);
    expect(waits).toEqual([0]);
  });
});
