/**
 * The series the chart's alerts compare, as a running controller (under the chart's RBAC)
 * exports them for a policy: what each line allows, and its stale slots, which go back to
 * zero once the slot's next run succeeds.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { BACKUP_PLURAL } from '../../../src/api/index.js';
import {
  type ControllerProcess,
  readMetrics,
  sumMetric,
} from '../../harness/controller-process.js';
import {
  type ControllerTestEnv,
  createBackup,
  createOrdersPolicy,
  FAST_RESYNC_ARGS,
  mergePatch,
  pgbackupPath,
  prepareControllerTest,
  startController,
} from '../controller/controller-setup.js';

const WAIT = { timeout: 60_000, interval: 250 };
const HOUR = 3600;
const DAILY = { policy: 'orders', type: 'binary', line: 'daily' };

describe("the metrics behind the chart's alerts", () => {
  let env: ControllerTestEnv;
  let controller: ControllerProcess;

  beforeAll(async () => {
    env = await prepareControllerTest();
    controller = await startController(env, FAST_RESYNC_ARGS);
    await createOrdersPolicy(env);
  });

  afterAll(async () => {
    await controller?.stop();
    await env?.cleanUp();
  });

  async function recordRun(name: string, status: Record<string, unknown>): Promise<void> {
    await createBackup(env, name, { type: 'binary', line: 'daily' });
    const path = `${pgbackupPath(env.namespace, BACKUP_PLURAL)}/${name}/status`;
    await mergePatch(env, path, { status: { slot: 6, slotLabel: 'tue', ...status } });
  }

  async function staleDailySlots(): Promise<number> {
    return sumMetric(await readMetrics(controller), 'pgbackup_backup_stale_slots', DAILY);
  }

  it("exports each enabled line's longest period plus the policy's lateness (6h)", async () => {
    await vi.waitFor(async () => {
      const metrics = await readMetrics(controller);
      const maxAge = (type: string, line: string) =>
        sumMetric(metrics, 'pgbackup_backup_line_max_age_seconds', {
          policy: 'orders',
          type,
          line,
        });
      expect(maxAge('binary', 'daily')).toBe(25 * HOUR + 6 * HOUR);
      expect(maxAge('binary', 'weekly')).toBe(7 * 24 * HOUR + HOUR + 6 * HOUR);
      expect(maxAge('logical', 'monthly')).toBe(31 * 24 * HOUR + HOUR + 6 * HOUR);
    }, WAIT);
  });

  it('counts a slot stale after its run fails, and not once its next run succeeds', async () => {
    await recordRun('orders-binary-daily-20261117', {
      phase: 'Completed',
      startedAt: '2026-11-17T01:00:00Z',
      completedAt: '2026-11-17T01:02:00Z',
    });
    await vi.waitFor(async () => expect(await staleDailySlots()).toBe(0), WAIT);
    await recordRun('orders-binary-daily-20261124', {
      phase: 'Failed',
      startedAt: '2026-11-24T01:00:00Z',
      completedAt: '2026-11-24T01:01:00Z',
    });
    await vi.waitFor(async () => expect(await staleDailySlots()).toBe(1), WAIT);
    await recordRun('orders-binary-daily-20261201', {
      phase: 'Completed',
      startedAt: '2026-12-01T01:00:00Z',
      completedAt: '2026-12-01T01:02:00Z',
    });
    await vi.waitFor(async () => expect(await staleDailySlots()).toBe(0), WAIT);
  });
});
