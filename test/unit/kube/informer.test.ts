/**
 * The informer against a scripted API server (plain HTTP on loopback) that does what real
 * ones do: expires the watched resource version (410), goes silent, drops the connection.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import { pino } from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  connectionOfKubeConfig,
  Informer,
  KubeClient,
  RESOURCES,
  type RetryPolicy,
} from '../../../src/kube/index.js';

type Watch = (request: IncomingMessage, response: ServerResponse) => void;

const secret = (name: string, resourceVersion: string) => ({
  metadata: { name, namespace: 'ns', resourceVersion },
});

const send = (response: ServerResponse, type: string, object: unknown) =>
  response.write(`${JSON.stringify({ type, object })}\n`);

/** A server answering lists from `lists` and watches from `watches`, in order. */
function scriptedServer(lists: unknown[][], watches: Watch[]) {
  const seen = { lists: 0, watches: [] as string[] };
  const server: Server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://localhost');
    response.writeHead(200, { 'content-type': 'application/json' });
    if (url.searchParams.get('watch') !== 'true') {
      const items = lists[Math.min(seen.lists, lists.length - 1)] ?? [];
      seen.lists += 1;
      response.end(
        JSON.stringify({ metadata: { resourceVersion: String(10 * seen.lists) }, items }),
      );
      return;
    }
    seen.watches.push(url.searchParams.get('resourceVersion') ?? '');
    const watch = watches[seen.watches.length - 1];
    if (watch === undefined) return; // further watches stay open and silent
    watch(request, response);
  });
  return { server, seen };
}

async function informerFor(
  server: Server,
  retry?: RetryPolicy,
): Promise<{ informer: Informer; client: KubeClient }> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromOptions({
    clusters: [{ name: 'fake', server: `http://127.0.0.1:${port}`, skipTLSVerify: true }],
    users: [{ name: 'nobody' }],
    contexts: [{ name: 'fake', cluster: 'fake', user: 'nobody' }],
    currentContext: 'fake',
  });
  const client = await KubeClient.create(
    connectionOfKubeConfig(kubeConfig),
    retry === undefined ? {} : { retry },
  );
  const informer = new Informer(client, {
    resource: RESOURCES.secret,
    namespace: 'ns',
    watchdogMs: 400,
    watchTimeoutSeconds: 300,
    backoff: { baseMs: 10, maxMs: 50 },
    log: pino({ level: 'silent' }),
  });
  return { informer, client };
}

describe('Informer', () => {
  const cleanUps: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const cleanUp of cleanUps.splice(0)) await cleanUp();
  });

  it('lists again after 410 Gone, restarts a silent watch and resumes after a dropped one', async () => {
    const { server, seen } = scriptedServer(
      [[secret('a', '5')], [secret('a', '5'), secret('b', '15')]],
      [
        // The version we watch from was compacted away.
        (_request, response) => {
          send(response, 'ERROR', {
            kind: 'Status',
            code: 410,
            reason: 'Expired',
            message: 'too old',
          });
          response.end();
        },
        // Silent: neither events nor bookmarks, and the connection stays open.
        () => undefined,
        // One event, then the connection breaks.
        (_request, response) => {
          send(response, 'ADDED', secret('c', '21'));
          setTimeout(() => response.socket?.destroy(), 50);
        },
        (_request, response) => send(response, 'DELETED', secret('a', '22')),
      ],
    );
    const { informer, client } = await informerFor(server);
    const changed: string[] = [];
    informer.onChange((key) => changed.push(key));
    informer.start();
    cleanUps.push(async () => {
      await informer.stop();
      client.close();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    });
    await informer.waitForSync();
    await vi.waitFor(
      () =>
        expect(
          informer
            .list()
            .map((object) => object.metadata.name)
            .sort(),
        ).toEqual(['b', 'c']),
      { timeout: 5000, interval: 20 },
    );
    expect(seen.lists).toBe(2);
    // From the first list, the second list, the same version after the watchdog, c's version.
    expect(seen.watches).toEqual(['10', '20', '20', '21']);
    expect(changed).toEqual(['ns/a', 'ns/b', 'ns/c', 'ns/a']);
  });

  it('leaves no abort listener behind per failed list (the retry sleep removes its own)', async () => {
    // A 403 (RBAC not granted yet) is not retried by the client: each one is an informer retry.
    let lists = 0;
    const server = createServer((_request, response) => {
      lists += 1;
      response.writeHead(403, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ kind: 'Status', reason: 'Forbidden', message: 'not yet' }));
    });
    const live = new Set<unknown>();
    const add = vi.spyOn(AbortSignal.prototype, 'addEventListener');
    const remove = vi.spyOn(AbortSignal.prototype, 'removeEventListener');
    add.mockImplementation(function (this: AbortSignal, type, listener, options) {
      if (type === 'abort') live.add(listener);
      return EventTarget.prototype.addEventListener.call(this, type, listener, options);
    });
    remove.mockImplementation(function (this: AbortSignal, type, listener, options) {
      if (type === 'abort') live.delete(listener);
      return EventTarget.prototype.removeEventListener.call(this, type, listener, options);
    });
    const { informer, client } = await informerFor(server);
    informer.start();
    cleanUps.push(async () => {
      add.mockRestore();
      remove.mockRestore();
      await informer.stop();
      client.close();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    });
    await vi.waitFor(() => expect(lists).toBeGreaterThanOrEqual(12), {
      timeout: 10_000,
      interval: 20,
    });
    // Between two lists at most the one sleep in progress holds a listener, however many
    // retries came before (a leak holds one per retry: 12 and growing). While a list is in
    // flight its request holds one too, so wait for a moment between lists rather than
    // sampling once.
    await vi.waitFor(() => expect(live.size).toBeLessThanOrEqual(1), {
      timeout: 5_000,
      interval: 1,
    });
  });

  it('stop() ends a list the client is still retrying: no request after it', async () => {
    let requests = 0;
    const server = createServer((_request, response) => {
      requests += 1;
      response.writeHead(503, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ kind: 'Status', reason: 'ServiceUnavailable' }));
    });
    const { informer, client } = await informerFor(server, {
      maxAttempts: 5,
      backoff: { baseMs: 200, maxMs: 1000, jitterRatio: 0 },
      deadlineMs: 60_000,
    });
    informer.start();
    cleanUps.push(async () => {
      client.close();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    });
    await vi.waitFor(() => expect(requests).toBe(1), { timeout: 5000, interval: 5 });
    await informer.stop();
    // Not the client's four further attempts of that list before stop() returned.
    expect(requests).toBe(1);
  });
});
