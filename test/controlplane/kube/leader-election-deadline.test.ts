/**
 * A leader whose renewals hang (the fault proxy holds every request for its Lease) steps
 * down within its renew deadline, before a second candidate, talking to the API server
 * directly, can take the Lease over (issue 14, finding 5).
 */
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { LeaderElector } from '../../../src/kube/index.js';
import { type ProxiedKube, startProxiedKube } from '../../harness/proxied-kube.js';

const TIMINGS = { leaseDurationMs: 4000, renewDeadlineMs: 2500, retryPeriodMs: 500 };

describe('a leader that cannot renew within the deadline', () => {
  let kube: ProxiedKube;
  const electors: LeaderElector[] = [];

  beforeAll(async () => {
    kube = await startProxiedKube([
      { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['*'] },
    ]);
  });

  afterAll(async () => {
    kube?.proxy.clear();
    for (const elector of electors) await elector.stop();
    await kube?.close();
  });

  async function candidate(identity: string, proxied: boolean): Promise<LeaderElector> {
    const client = proxied ? await kube.client() : await kube.directClient();
    const elector = new LeaderElector(client, {
      namespace: kube.namespace,
      name: 'leader',
      identity,
      ...TIMINGS,
      log: pino({ level: 'silent' }),
    });
    electors.push(elector);
    return elector;
  }

  it('stops leading before the standby acquires the Lease', async () => {
    const events: string[] = [];
    const first = await candidate('first', true);
    first.onChange((leading) => events.push(`first ${leading ? 'leads' : 'stopped'}`));
    first.start();
    await vi.waitFor(() => expect(first.leading).toBe(true), { timeout: 20_000, interval: 50 });

    const second = await candidate('second', false);
    let firstLeadingWhenSecondAcquired: boolean | undefined;
    second.onChange((leading) => {
      if (leading) firstLeadingWhenSecondAcquired = first.leading;
      events.push(`second ${leading ? 'leads' : 'stopped'}`);
    });
    second.start();

    // Blackhole the leader's Lease requests: they are neither answered nor refused.
    kube.proxy.addRule({
      match: (request) => request.url.includes('/leases'),
      action: { kind: 'hold' },
      times: Number.POSITIVE_INFINITY,
    });
    await vi.waitFor(() => expect(second.leading).toBe(true), { timeout: 60_000, interval: 50 });

    expect(firstLeadingWhenSecondAcquired).toBe(false);
    expect(events).toEqual(['first leads', 'first stopped', 'second leads']);
  });
});
