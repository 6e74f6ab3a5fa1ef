/**
 * The runner's queue on Leases (src/kube/lease-queue.ts) against the real API server: the most
 * valuable line first, then first come, first served; fencing (a run that sees another holder
 * knows it at once, and cannot prove it holds the Lease); a release that fails never rejects.
 */
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { connectionOfKubeConfig, KubeClient } from '../../src/kube/index.js';
import {
  acquireLease,
  type HeldLease,
  LEASE_QUEUE_LABEL,
  LeaseLostError,
  type LeaseQueueInput,
} from '../../src/kube/lease-queue.js';
import { adminKubeConfig, createTestNamespace } from '../harness/kube.js';
import { type ProxiedKube, startProxiedKube } from '../harness/proxied-kube.js';

const WAIT = { timeout: 60_000, interval: 100 };
const logger = pino({ level: 'silent' });

interface Lease {
  metadata: { name: string };
  spec?: { holderIdentity?: string; renewTime?: string };
}

describe('the run queue on a Lease', () => {
  let client: KubeClient;
  let namespace: string;

  beforeAll(async () => {
    const admin = adminKubeConfig();
    namespace = await createTestNamespace(admin);
    client = await KubeClient.create(connectionOfKubeConfig(admin));
  });
  afterAll(() => client.close());

  const leasePath = (name = '') =>
    `/apis/coordination.k8s.io/v1/namespaces/${namespace}/leases${name === '' ? '' : `/${name}`}`;
  const readLease = (name: string) =>
    client.request<Lease>({ verb: 'get', path: leasePath(name), what: 'get Lease' });
  const setHolder = (name: string, holderIdentity: string | null) =>
    client.request({
      verb: 'patch',
      path: leasePath(name),
      body: { spec: { holderIdentity, renewTime: new Date().toISOString().replace('Z', '000Z') } },
      contentType: 'application/merge-patch+json',
      what: 'patch Lease',
    });
  const createHeldLease = (name: string, holderIdentity: string) =>
    client.request({
      verb: 'create',
      path: leasePath(),
      body: {
        apiVersion: 'coordination.k8s.io/v1',
        kind: 'Lease',
        metadata: { name },
        spec: {
          holderIdentity,
          leaseDurationSeconds: 3600,
          renewTime: new Date().toISOString().replace('Z', '000Z'),
        },
      },
      what: 'create Lease',
    });
  const ticketsOf = async (queue: string) =>
    (
      await client.request<{ items: Lease[] }>({
        verb: 'list',
        path: leasePath(),
        query: { labelSelector: `${LEASE_QUEUE_LABEL}=${queue}` },
        what: 'list tickets',
      })
    ).items;
  const queueInput = (queue: string, identity: string, priority: number): LeaseQueueInput => ({
    client,
    namespace,
    name: queue,
    identity,
    priority,
    triggeredAtMs: Date.parse('2026-12-31T01:00:00Z'),
    pollMs: 100,
    logger,
  });

  it('serves the most valuable line first, and runs of one line in the order they came', async () => {
    const queue = 'orders-binary';
    await createHeldLease(queue, 'a-running-daily');
    const served: string[] = [];
    const waiters: Promise<void>[] = [];
    const wait = async (identity: string, priority: number, triggeredAt: string) => {
      const tickets = (await ticketsOf(queue)).length;
      waiters.push(
        acquireLease({
          ...queueInput(queue, identity, priority),
          triggeredAtMs: Date.parse(triggeredAt),
        }).then(async (held) => {
          served.push(identity);
          await held.release();
        }),
      );
      await vi.waitFor(async () => expect(await ticketsOf(queue)).toHaveLength(tickets + 1), WAIT);
    };
    await wait('daily-first', 1, '2026-12-31T01:00:00Z');
    // Arrival is stamped by the API server to the second: the next comes a second later, and
    // its earlier trigger does not let it pass the run that came first.
    await new Promise((resolve) => setTimeout(resolve, 1100));
    await wait('daily-second', 1, '2026-12-30T01:00:00Z');
    await wait('weekly', 2, '2026-12-31T01:00:00Z');
    await wait('yearly', 5, '2026-12-31T01:00:00Z');
    await setHolder(queue, null);
    await Promise.all(waiters);

    expect(served).toEqual(['yearly', 'weekly', 'daily-first', 'daily-second']);
    expect(await ticketsOf(queue)).toEqual([]);
  });

  it('passes over the ticket of a waiter that died', async () => {
    const queue = 'orders-logical';
    await createHeldLease(queue, 'a-running-weekly');
    // A yearly run that was killed while waiting: its ticket is never renewed.
    await client.request({
      verb: 'create',
      path: leasePath(),
      body: {
        apiVersion: 'coordination.k8s.io/v1',
        kind: 'Lease',
        metadata: {
          name: `${queue}-wait-dead`,
          labels: { [LEASE_QUEUE_LABEL]: queue },
          annotations: { 'pgbackup.dev/priority': '5' },
        },
        spec: {
          holderIdentity: 'dead',
          leaseDurationSeconds: 2,
          renewTime: new Date().toISOString().replace('Z', '000Z'),
        },
      },
      what: 'create ticket',
    });
    const acquiring = acquireLease({ ...queueInput(queue, 'daily', 1), leaseDurationSeconds: 2 });
    await setHolder(queue, null);
    const held = await acquiring;
    await held.release();

    expect(await ticketsOf(queue)).toEqual([]);
  });

  describe('fencing', () => {
    let held: HeldLease;
    const queue = 'fenced-binary';

    beforeAll(async () => {
      held = await acquireLease({ ...queueInput(queue, 'holder', 1), leaseDurationSeconds: 3 });
    });

    it('proves the Lease is held by renewing it', async () => {
      const before = (await readLease(queue)).spec?.renewTime;
      await held.assertHeld();
      expect((await readLease(queue)).spec?.renewTime).not.toBe(before);
      expect(held.signal.aborted).toBe(false);
    });

    it('aborts the signal once another run holds the Lease, and refuses to prove it', async () => {
      await setHolder(queue, 'thief');

      await vi.waitFor(() => expect(held.signal.aborted).toBe(true), WAIT);
      expect(held.signal.reason).toBeInstanceOf(LeaseLostError);
      expect(String(held.signal.reason.message)).toContain('to "thief"');
      await expect(held.assertHeld()).rejects.toThrow(LeaseLostError);
      await held.release();
      expect((await readLease(queue)).spec?.holderIdentity).toBe('thief');
    });
  });
});

describe('releasing the Lease', () => {
  let kube: ProxiedKube;

  beforeAll(async () => {
    kube = await startProxiedKube([
      {
        apiGroups: ['coordination.k8s.io'],
        resources: ['leases'],
        verbs: ['get', 'list', 'create', 'update', 'patch', 'delete'],
      },
      // The harness proves the grant has landed by listing ConfigMaps.
      { apiGroups: [''], resources: ['configmaps'], verbs: ['list'] },
    ]);
  });
  afterAll(() => kube.close());

  it('never rejects: a release the API server refuses leaves the Lease to expire', async () => {
    const warnings: string[] = [];
    const held = await acquireLease({
      client: await kube.client(),
      namespace: kube.namespace,
      name: 'orders-binary',
      identity: 'releasing',
      priority: 1,
      triggeredAtMs: Date.now(),
      pollMs: 100,
      logger: pino(
        { level: 'warn' },
        { write: (line: string) => warnings.push(String(JSON.parse(line).msg)) },
      ),
    });
    kube.proxy.addRule({
      match: (request) => request.method === 'PUT' && request.url.endsWith('/leases/orders-binary'),
      action: {
        kind: 'answer',
        status: 500,
        body: JSON.stringify({
          kind: 'Status',
          code: 500,
          reason: 'InternalError',
          message: 'injected',
        }),
      },
      times: Number.POSITIVE_INFINITY,
    });

    await expect(held.release()).resolves.toBeUndefined();
    expect(warnings.join('\n')).toContain('could not release the Lease; it expires by itself');
  });
});
