import { describe, expect, it } from 'vitest';
import { BINARY_LINES, parseBackupPolicy, type SlotStatus } from '../../../src/api/index.js';
import {
  createControllerMetrics,
  forgetBackupMetrics,
  LONGEST_PERIOD_SECONDS,
  recordLineMetrics,
} from '../../../src/controller/controller-metrics.js';
import {
  isFireDay,
  latestFireDayOnOrBefore,
  retentionPlanOf,
} from '../../../src/retention/index.js';
import { fixtureYaml } from '../../harness/fixtures.js';

const ORDERS = { namespace: 'shop', name: 'orders' };

function ordersPlan(lateness?: string) {
  const policy = fixtureYaml<{ spec: { schedule: Record<string, string> } }>(
    'controller/orders-policy.yaml',
  );
  if (lateness !== undefined) policy.spec.schedule.lateness = lateness;
  const parsed = parseBackupPolicy(policy);
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues));
  return retentionPlanOf(parsed.value.spec);
}

async function valuesOf(metrics: ReturnType<typeof createControllerMetrics>, name: string) {
  const metric = metrics.registry.getSingleMetric(name);
  if (metric === undefined) throw new Error(`${name} is not registered`);
  const { values } = await metric.get();
  return Object.fromEntries(
    values.map(({ labels, value }) => [`${labels.type}/${labels.line}`, value]),
  );
}

function slot(type: 'binary' | 'logical', line: 'daily' | 'monthly', n: number, stale: boolean) {
  return { type, line, slot: n, label: `s${n}`, stale } satisfies SlotStatus;
}

describe('the per-line metrics the alerts compare against', () => {
  it("sets each enabled line's longest period plus the policy's lateness", async () => {
    const metrics = createControllerMetrics(() => 0);
    recordLineMetrics(metrics, ORDERS, { plan: ordersPlan('2h'), slots: [] });
    expect(await valuesOf(metrics, 'pgbackup_backup_line_max_age_seconds')).toEqual({
      'binary/daily': 25 * 3600 + 2 * 3600,
      'binary/weekly': 7 * 86_400 + 3600 + 2 * 3600,
      'logical/monthly': 31 * 86_400 + 3600 + 2 * 3600,
    });
  });

  it('counts the stale slots of each line, and 0 once they are refilled', async () => {
    const metrics = createControllerMetrics(() => 0);
    const plan = ordersPlan();
    const failing = [
      slot('binary', 'daily', 0, false),
      slot('binary', 'daily', 1, true),
      slot('binary', 'daily', 2, true),
      slot('logical', 'monthly', 0, true),
    ];
    recordLineMetrics(metrics, ORDERS, { plan, slots: failing });
    expect(await valuesOf(metrics, 'pgbackup_backup_stale_slots')).toEqual({
      'binary/daily': 2,
      'binary/weekly': 0,
      'logical/monthly': 1,
    });
    const refilled = failing.map((row) => ({ ...row, stale: false }));
    recordLineMetrics(metrics, ORDERS, { plan, slots: refilled });
    expect(await valuesOf(metrics, 'pgbackup_backup_stale_slots')).toEqual({
      'binary/daily': 0,
      'binary/weekly': 0,
      'logical/monthly': 0,
    });
  });

  it('drops the series of a disabled line, and all of a deleted policy', async () => {
    const metrics = createControllerMetrics(() => 0);
    const plan = ordersPlan();
    recordLineMetrics(metrics, ORDERS, { plan, slots: [] });
    recordLineMetrics(metrics, ORDERS, { plan: { ...plan, logical: [] }, slots: [] });
    expect(Object.keys(await valuesOf(metrics, 'pgbackup_backup_line_max_age_seconds'))).toEqual([
      'binary/daily',
      'binary/weekly',
    ]);
    forgetBackupMetrics(metrics, ORDERS);
    expect(await valuesOf(metrics, 'pgbackup_backup_line_max_age_seconds')).toEqual({});
    expect(await valuesOf(metrics, 'pgbackup_backup_stale_slots')).toEqual({});
  });

  it('agrees with the calendar: no two fire days of a line are further apart than its longest period', () => {
    // 2024-01-01 to 2032-12-31 (epoch days), leap years included.
    const [first, last] = [19_723, 23_010];
    for (const line of BINARY_LINES) {
      const calendar = { line, weekday: 'sunday' as const };
      let longestDays = 0;
      let previous = latestFireDayOnOrBefore(calendar, first);
      for (let day = first + 1; day <= last; day += 1) {
        if (!isFireDay(calendar, day)) continue;
        longestDays = Math.max(longestDays, day - previous);
        previous = day;
      }
      expect(LONGEST_PERIOD_SECONDS[line], line).toBe(longestDays * 86_400 + 3600);
    }
  });
});
