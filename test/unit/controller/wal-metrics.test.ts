import { describe, expect, it } from 'vitest';
import type { ContinuousStatus } from '../../../src/api/index.js';
import {
  createControllerMetrics,
  forgetWalMetrics,
  recordWalMetrics,
} from '../../../src/controller/controller-metrics.js';
import { fixtureYaml } from '../../harness/fixtures.js';

const ORDERS = { namespace: 'shop', name: 'orders' };
const streaming = fixtureYaml<ContinuousStatus>('render/continuous/status-streaming.yaml');
const withGap = fixtureYaml<ContinuousStatus>('render/continuous/status-gap.yaml');

async function seriesOf(metrics: ReturnType<typeof createControllerMetrics>) {
  const text = await metrics.registry.metrics();
  return text.split('\n').filter((line) => line.startsWith('pgbackup_wal_'));
}

describe("the controller's continuous protection metrics", () => {
  it('export what the receiver reported, per policy, and whether it is up', async () => {
    const metrics = createControllerMetrics(() => 0);
    recordWalMetrics(metrics, ORDERS, {
      uploadInterval: '15s',
      status: { ...streaming, lagBytes: 4096, lagSeconds: 3.5 },
      receiverUp: true,
    });
    const labels = 'namespace="shop",policy="orders"';
    expect(await seriesOf(metrics)).toEqual(
      expect.arrayContaining([
        `pgbackup_wal_lag_bytes{${labels}} 4096`,
        `pgbackup_wal_lag_seconds{${labels}} 3.5`,
        `pgbackup_wal_last_archived_timestamp_seconds{${labels}} ${Date.parse('2026-12-03T11:59:58Z') / 1000}`,
        `pgbackup_wal_upload_interval_seconds{${labels}} 15`,
        `pgbackup_wal_gap{${labels}} 0`,
        `pgbackup_wal_slot_lost{${labels}} 0`,
        `pgbackup_wal_receiver_up{${labels}} 1`,
        `pgbackup_wal_slot_retained_bytes{${labels},slot="pgbackup_wal_0123456789abcdef"} 16384`,
      ]),
    );
  });

  it('say gap 1 while a gap is reported, slot lost 1 while the slot is lost', async () => {
    const metrics = createControllerMetrics(() => 0);
    recordWalMetrics(metrics, ORDERS, { uploadInterval: '10s', status: withGap, receiverUp: true });
    expect(await seriesOf(metrics)).toContain(
      'pgbackup_wal_gap{namespace="shop",policy="orders"} 1',
    );
    recordWalMetrics(metrics, ORDERS, {
      uploadInterval: '10s',
      status: {
        ...streaming,
        state: 'SlotLost',
        slot: { name: 'pgbackup_wal_x', walStatus: 'lost' },
      },
      receiverUp: true,
    });
    const series = await seriesOf(metrics);
    expect(series).toContain('pgbackup_wal_slot_lost{namespace="shop",policy="orders"} 1');
    expect(series).toContain('pgbackup_wal_gap{namespace="shop",policy="orders"} 0');
    // No retained figure reported: the old slot's series goes rather than stay at its last value.
    expect(series.join('\n')).not.toContain('pgbackup_wal_slot_retained_bytes{');
  });

  it('export only receiver_up before the receiver first reports (no made-up zero lag)', async () => {
    const metrics = createControllerMetrics(() => 0);
    recordWalMetrics(metrics, ORDERS, {
      uploadInterval: '10s',
      status: undefined,
      receiverUp: false,
    });
    const names = (await seriesOf(metrics)).map((line) => line.split('{')[0]);
    expect(names.sort()).toEqual([
      'pgbackup_wal_receiver_up',
      'pgbackup_wal_upload_interval_seconds',
    ]);
  });

  it('are all removed once the policy has no receiver', async () => {
    const metrics = createControllerMetrics(() => 0);
    recordWalMetrics(metrics, ORDERS, {
      uploadInterval: '10s',
      status: streaming,
      receiverUp: true,
    });
    forgetWalMetrics(metrics, ORDERS);
    expect(await seriesOf(metrics)).toEqual([]);
  });
});
