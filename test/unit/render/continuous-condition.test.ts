import { describe, expect, it } from 'vitest';
import type { ContinuousStatus } from '../../../src/api/index.js';
import {
  type ContinuousConditionInput,
  continuousConditionOf,
  gapBackupNameOf,
  isReceiverUp,
  msUntilHeartbeatStale,
  renderGapBackup,
  renderPolicyStatus,
} from '../../../src/render/index.js';
import { fixtureYaml } from '../../harness/fixtures.js';

const HEARTBEAT_MS = Date.parse('2026-12-03T12:00:00Z');
const streaming = fixtureYaml<ContinuousStatus>('render/continuous/status-streaming.yaml');
const withGap = fixtureYaml<ContinuousStatus>('render/continuous/status-gap.yaml');

function inputOf(overrides: Partial<ContinuousConditionInput> = {}): ContinuousConditionInput {
  return {
    enabled: true,
    suspended: false,
    status: streaming,
    deployment: { name: 'orders-wal', available: true },
    nowMs: HEARTBEAT_MS + 10_000,
    ...overrides,
  };
}

describe('the Continuous condition', () => {
  it('is absent while continuous protection is disabled', () => {
    expect(continuousConditionOf(inputOf({ enabled: false }))).toBeUndefined();
  });

  it('is True/Streaming while the receiver streams and reported lately', () => {
    expect(continuousConditionOf(inputOf())).toMatchObject({
      type: 'Continuous',
      status: 'True',
      reason: 'Streaming',
    });
    expect(isReceiverUp(inputOf())).toBe(true);
  });

  it('says Starting until the receiver first reports, naming its Deployment', () => {
    const fields = continuousConditionOf(
      inputOf({ status: undefined, deployment: { name: 'orders-wal', available: false } }),
    );
    expect(fields).toMatchObject({ status: 'False', reason: 'Starting' });
    expect(fields?.message).toContain('orders-wal');
  });

  it('says ReceiverDown once the last report is 2 minutes old, or the Deployment is unavailable', () => {
    const stale = continuousConditionOf(inputOf({ nowMs: HEARTBEAT_MS + 120_000 }));
    expect(stale).toMatchObject({ status: 'False', reason: 'ReceiverDown' });
    expect(stale?.message).toContain('kubectl logs deployment/orders-wal');
    expect(isReceiverUp(inputOf({ nowMs: HEARTBEAT_MS + 120_000 }))).toBe(false);
    const unavailable = continuousConditionOf(
      inputOf({ deployment: { name: 'orders-wal', available: false } }),
    );
    expect(unavailable).toMatchObject({ status: 'False', reason: 'ReceiverDown' });
    expect(isReceiverUp(inputOf({ deployment: { name: 'orders-wal', available: false } }))).toBe(
      false,
    );
  });

  it('comes back when the report would turn stale, so a dead receiver is noticed', () => {
    expect(msUntilHeartbeatStale(inputOf())).toBe(110_000 + 1000);
    expect(msUntilHeartbeatStale(inputOf({ nowMs: HEARTBEAT_MS + 130_000 }))).toBeUndefined();
    expect(msUntilHeartbeatStale(inputOf({ suspended: true }))).toBeUndefined();
  });

  it('says Gap with the missing range', () => {
    const fields = continuousConditionOf(inputOf({ status: withGap }));
    expect(fields).toMatchObject({ status: 'False', reason: 'Gap' });
    expect(fields?.message).toContain('from LSN 0/4000000 to 0/9000000 on timeline 1');
    const unavailable = { name: 'orders-wal', available: false };
    expect(
      continuousConditionOf(inputOf({ status: withGap, deployment: unavailable }))?.reason,
    ).toBe('Gap');
    expect(
      continuousConditionOf(
        inputOf({ status: withGap, deployment: unavailable, nowMs: HEARTBEAT_MS + 180_000 }),
      )?.reason,
    ).toBe('ReceiverDown');
  });

  it("passes Lagging, SlotLost and NoPrimary on, with the receiver's message where it has one", () => {
    for (const state of ['Lagging', 'SlotLost', 'NoPrimary', 'Starting'] as const) {
      const fields = continuousConditionOf(inputOf({ status: { ...streaming, state } }));
      expect(fields).toMatchObject({ status: 'False', reason: state });
      expect(fields?.message.length).toBeGreaterThan(20);
    }
    const told = continuousConditionOf(
      inputOf({ status: { ...streaming, state: 'NoPrimary', message: 'pod orders-1 refused' } }),
    );
    expect(told?.message).toBe('pod orders-1 refused');
  });

  it('says Suspended while the policy is suspended', () => {
    expect(continuousConditionOf(inputOf({ suspended: true }))).toMatchObject({
      status: 'False',
      reason: 'Suspended',
    });
  });

  it('joins the policy status, which never carries status.continuous itself', () => {
    const status = renderPolicyStatus({
      generation: 2,
      previous: undefined,
      outcome: { kind: 'applied', cronJobs: [], slots: [], suspended: false },
      backups: [],
      now: '2026-12-03T12:00:10Z',
      continuous: inputOf({ status: withGap }),
    });
    expect(status.conditions?.map((condition) => condition.type)).toEqual([
      'Ready',
      'Reconciled',
      'LastBackupSucceeded',
      'Continuous',
    ]);
    expect(status).not.toHaveProperty('continuous');
    const disabled = renderPolicyStatus({
      generation: 3,
      previous: status,
      outcome: { kind: 'applied', cronJobs: [], slots: [], suspended: false },
      backups: [],
      now: '2026-12-03T12:01:00Z',
      continuous: inputOf({ enabled: false }),
    });
    expect(disabled.conditions?.map((condition) => condition.type)).not.toContain('Continuous');
  });

  it('keeps the condition last set when the policy could not be judged (invalid)', () => {
    const previous = renderPolicyStatus({
      generation: 2,
      previous: undefined,
      outcome: { kind: 'applied', cronJobs: [], slots: [], suspended: false },
      backups: [],
      now: '2026-12-03T12:00:10Z',
      continuous: inputOf(),
    });
    const invalid = renderPolicyStatus({
      generation: 3,
      previous,
      outcome: { kind: 'failed', message: 'the API server is away' },
      backups: [],
      now: '2026-12-03T12:01:00Z',
    });
    expect(invalid.conditions?.find((condition) => condition.type === 'Continuous')).toMatchObject({
      reason: 'Streaming',
      lastTransitionTime: '2026-12-03T12:00:10Z',
    });
  });
});

describe('the Backup that closes a gap', () => {
  const gap = withGap.gap;
  if (gap === undefined) throw new Error('the fixture has a gap');

  it('is an on-demand binary Backup of the policy, named after where the gap starts', () => {
    const backup = renderGapBackup({ name: 'orders', namespace: 'shop' }, gap);
    expect(backup).toMatchObject({
      kind: 'Backup',
      metadata: {
        namespace: 'shop',
        labels: { 'pgbackup.dev/policy': 'orders', 'pgbackup.dev/type': 'binary' },
      },
      spec: { policy: 'orders', type: 'binary' },
    });
    expect(backup.spec).not.toHaveProperty('line');
    expect(backup.metadata.name).toMatch(/^orders-gap-[0-9a-z]{7}$/);
    expect(backup.metadata).not.toHaveProperty('ownerReferences');
  });

  it('has the same name for the same gap (even as its end moves), another for another', () => {
    const name = gapBackupNameOf('orders', gap);
    expect(gapBackupNameOf('orders', { ...gap, toLsn: '0/B000000' })).toBe(name);
    expect(gapBackupNameOf('orders', { ...gap, fromLsn: '0/5000000' })).not.toBe(name);
    expect(gapBackupNameOf('orders', { ...gap, timeline: 2 })).not.toBe(name);
  });

  it('fits with its Job suffix in 63 characters, for a long policy name too', () => {
    const name = gapBackupNameOf('p'.repeat(63), gap);
    expect(`${name}-run`.length).toBeLessThanOrEqual(63);
    expect(name).toMatch(/-gap-[0-9a-z]{7}$/);
  });
});
