/**
 * The chart's PrometheusRule evaluated by promtool over series written here, as Prometheus
 * would evaluate it: each alert fires on its condition (after its `for`) and clears by
 * itself once the next success is exported, with no Prometheus and no per-line threshold.
 */
import { describe, expect, it } from 'vitest';
import { renderChartObjects } from '../../harness/chart.js';
import { runPromtool } from '../../harness/promtool.js';

const DAILY = { namespace: 'shop', policy: 'orders', type: 'binary', line: 'daily' };
const WEEKLY = { ...DAILY, line: 'weekly' };
const HOUR = 3600;

interface Alert {
  alert: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}
interface RuleGroups {
  groups: { name: string; rules: Alert[] }[];
}

async function chartRules(): Promise<RuleGroups> {
  const [rule] = await renderChartObjects(
    'prometheusrule.yaml',
    { name: 'rel', namespace: 'ops' },
    {
      values: { prometheusRule: { enabled: true } },
    },
  );
  return (rule as { spec: RuleGroups }).spec;
}

function seriesOf(metric: string, labels: Record<string, string>): string {
  const inner = Object.entries(labels)
    .map(([key, value]) => `${key}="${value}"`)
    .join(',');
  return `pgbackup_backup_${metric}{${inner}}`;
}

/** An alert as promtool expects it: its labels and its annotations with templates expanded. */
function firing(rules: RuleGroups, name: string, labels: Record<string, string>, value = '') {
  const alert = rules.groups.flatMap((group) => group.rules).find((rule) => rule.alert === name);
  if (alert === undefined) throw new Error(`the chart has no alert ${name}`);
  const expand = (text: string) =>
    text
      .replace(/\{\{ \$labels\.(\w+) \}\}/g, (_match, key: string) => labels[key] ?? '')
      // `value` as the template prints it (after a function such as humanize1024, if any).
      .replace(/\{\{ \$value( \| \w+)? \}\}/g, value);
  return {
    exp_labels: { ...alert.labels, ...labels },
    exp_annotations: Object.fromEntries(
      Object.entries(alert.annotations).map(([key, text]) => [key, expand(text)]),
    ),
  };
}

describe("the chart's alerts, evaluated by promtool", () => {
  it('are valid Prometheus rules', async () => {
    const result = await runPromtool(await chartRules());
    expect(result.output).toContain('SUCCESS: 7 rules found');
    expect(result.code).toBe(0);
  });

  it('fire on their conditions and clear by themselves after the next success', async () => {
    const rules = await chartRules();
    const tests = [
      {
        // A daily line (31 h allowed) whose newest backup finished at 0 h; the next at 32 h.
        interval: '1m',
        input_series: [
          { series: seriesOf('line_max_age_seconds', DAILY), values: `${31 * HOUR}x2100` },
          {
            series: seriesOf('last_success_timestamp_seconds', DAILY),
            values: `0x1920 ${32 * HOUR}x180`,
          },
        ],
        alert_rule_test: [
          { eval_time: '31h', alertname: 'PgBackupLineOverdue', exp_alerts: [] },
          {
            eval_time: '32h',
            alertname: 'PgBackupLineOverdue',
            exp_alerts: [firing(rules, 'PgBackupLineOverdue', DAILY)],
          },
          { eval_time: '33h', alertname: 'PgBackupLineOverdue', exp_alerts: [] },
        ],
      },
      {
        // The daily line fails at 1 h and succeeds at 3 h; the weekly one only ever fails.
        interval: '1m',
        input_series: [
          {
            series: seriesOf('last_success_timestamp_seconds', DAILY),
            values: `0x180 ${3 * HOUR}x180`,
          },
          { series: seriesOf('last_failure_timestamp_seconds', DAILY), values: `_x60 ${HOUR}x300` },
          { series: seriesOf('last_failure_timestamp_seconds', WEEKLY), values: `${HOUR}x360` },
        ],
        alert_rule_test: [
          {
            eval_time: '30m',
            alertname: 'PgBackupLastRunFailed',
            exp_alerts: [firing(rules, 'PgBackupLastRunFailed', WEEKLY)],
          },
          {
            eval_time: '2h',
            alertname: 'PgBackupLastRunFailed',
            exp_alerts: [
              firing(rules, 'PgBackupLastRunFailed', DAILY),
              firing(rules, 'PgBackupLastRunFailed', WEEKLY),
            ],
          },
          {
            eval_time: '4h',
            alertname: 'PgBackupLastRunFailed',
            exp_alerts: [firing(rules, 'PgBackupLastRunFailed', WEEKLY)],
          },
        ],
      },
      {
        // A slot goes stale at 1 h; its next run succeeds at 5 h.
        interval: '1m',
        input_series: [{ series: seriesOf('stale_slots', DAILY), values: '0x60 1x240 0x120' }],
        alert_rule_test: [
          { eval_time: '1h30m', alertname: 'PgBackupStaleSlot', exp_alerts: [] },
          {
            eval_time: '3h',
            alertname: 'PgBackupStaleSlot',
            exp_alerts: [firing(rules, 'PgBackupStaleSlot', DAILY, '1')],
          },
          { eval_time: '6h', alertname: 'PgBackupStaleSlot', exp_alerts: [] },
        ],
      },
    ];
    const result = await runPromtool(rules, tests);
    expect(result.output).toContain('SUCCESS');
    expect(result.code, result.output).toBe(0);
  });

  it('fire on a leftover replication slot, not on one a run holds, and clear once it is gone', async () => {
    const rules = await chartRules();
    const slot = { namespace: 'shop', policy: 'orders', slot: 'pgbackup_0123456789abcdef' };
    const series = (metric: string) =>
      `pgbackup_replication_slot_${metric}{namespace="shop",policy="orders",slot="${slot.slot}"}`;
    // A run holds the slot for 2 h, is killed at 2 h (the slot stays), and the slot is dropped
    // at 4 h: the series go away with it.
    const tests = [
      {
        interval: '1m',
        input_series: [
          { series: series('retained_bytes'), values: '1048576x240' },
          { series: series('leftover'), values: '0x120 1x120' },
        ],
        alert_rule_test: [
          { eval_time: '1h30m', alertname: 'PgBackupLeftoverReplicationSlot', exp_alerts: [] },
          { eval_time: '2h20m', alertname: 'PgBackupLeftoverReplicationSlot', exp_alerts: [] },
          {
            eval_time: '3h',
            alertname: 'PgBackupLeftoverReplicationSlot',
            exp_alerts: [firing(rules, 'PgBackupLeftoverReplicationSlot', slot, '1Mi')],
          },
          { eval_time: '4h30m', alertname: 'PgBackupLeftoverReplicationSlot', exp_alerts: [] },
        ],
      },
    ];
    const result = await runPromtool(rules, tests);
    expect(result.output).toContain('SUCCESS');
    expect(result.code, result.output).toBe(0);
  });

  it('fire on WAL that lags, a receiver that is down, a gap and a slot holding WAL, and clear', async () => {
    const rules = await chartRules();
    const ORDERS = { namespace: 'shop', policy: 'orders' };
    const BILLING = { namespace: 'shop', policy: 'billing' };
    const GIB = 1024 ** 3;
    const wal = (metric: string, labels: Record<string, string>) =>
      `pgbackup_wal_${metric}{${Object.entries(labels)
        .map(([key, value]) => `${key}="${value}"`)
        .join(',')}}`;
    const slot = { ...ORDERS, slot: 'pgbackup_wal_0123456789abcdef' };
    // Each hour: fine, then the trouble, then fine again. orders' bucket lags 30 s behind
    // (twice its 10 s interval is 20 s); billing's receiver is down for the hour.
    const tests = [
      {
        interval: '1m',
        input_series: [
          { series: wal('upload_interval_seconds', ORDERS), values: '10x180' },
          { series: wal('lag_seconds', ORDERS), values: '0x60 30x60 2x60' },
          { series: wal('receiver_up', ORDERS), values: '1x180' },
          { series: wal('upload_interval_seconds', BILLING), values: '10x180' },
          { series: wal('lag_seconds', BILLING), values: '0x180' },
          { series: wal('receiver_up', BILLING), values: '1x60 0x60 1x60' },
          { series: wal('gap', ORDERS), values: '0x60 1x60 0x60' },
          {
            series: wal('slot_retained_bytes', slot),
            values: `${GIB}x60 ${20 * GIB}x60 ${GIB}x60`,
          },
        ],
        alert_rule_test: [
          { eval_time: '50m', alertname: 'PgBackupWalLagging', exp_alerts: [] },
          {
            eval_time: '1h10m',
            alertname: 'PgBackupWalLagging',
            exp_alerts: [
              firing(rules, 'PgBackupWalLagging', BILLING),
              firing(rules, 'PgBackupWalLagging', ORDERS),
            ],
          },
          { eval_time: '2h30m', alertname: 'PgBackupWalLagging', exp_alerts: [] },
          { eval_time: '50m', alertname: 'PgBackupWalGap', exp_alerts: [] },
          {
            eval_time: '1h10m',
            alertname: 'PgBackupWalGap',
            exp_alerts: [firing(rules, 'PgBackupWalGap', ORDERS)],
          },
          { eval_time: '2h30m', alertname: 'PgBackupWalGap', exp_alerts: [] },
          { eval_time: '1h10m', alertname: 'PgBackupSlotRetainingWal', exp_alerts: [] },
          {
            eval_time: '1h30m',
            alertname: 'PgBackupSlotRetainingWal',
            exp_alerts: [firing(rules, 'PgBackupSlotRetainingWal', slot, '20Gi')],
          },
          { eval_time: '2h30m', alertname: 'PgBackupSlotRetainingWal', exp_alerts: [] },
        ],
      },
    ];
    const result = await runPromtool(rules, tests);
    expect(result.output).toContain('SUCCESS');
    expect(result.code, result.output).toBe(0);
  });
});
