/** The timings a LeaderElector accepts: a deposed leader must stop before a standby starts. */
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import type { KubeClient } from '../../../src/kube/index.js';
import { LeaderElector } from '../../../src/kube/leader-election.js';

// The constructor only checks its options; no request is made.
const noClient = {} as KubeClient;
const elector = (leaseDurationMs: number, renewDeadlineMs: number, retryPeriodMs: number) =>
  new LeaderElector(noClient, {
    namespace: 'ns',
    name: 'lease',
    identity: 'me',
    leaseDurationMs,
    renewDeadlineMs,
    retryPeriodMs,
    log: pino({ level: 'silent' }),
  });

describe('LeaderElector timings', () => {
  it('accepts the defaults (15 s lease, 10 s deadline, 2 s retry)', () => {
    expect(elector(15_000, 10_000, 2000).leading).toBe(false);
  });

  it('refuses a renew deadline not shorter than the lease, naming the flags', () => {
    expect(() => elector(10_000, 10_000, 2000)).toThrow(/--renew-deadline-seconds/);
    expect(() => elector(10_000, 12_000, 2000)).toThrow(/must be shorter than the lease duration/);
  });

  it('refuses a retry period not shorter than the renew deadline', () => {
    expect(() => elector(15_000, 10_000, 10_000)).toThrow(/--retry-period-seconds/);
  });
});
