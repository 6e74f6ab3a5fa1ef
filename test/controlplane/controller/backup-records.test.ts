/**
 * The controller keeps a policy's Backup records bounded and findable by label: only the newest
 * few Skipped records of a line stay, and a Backup made by hand gets the policy's labels so
 * `kubectl get backups -l pgbackup.dev/policy=NAME` lists it.
 */
import { describe, expect, it, vi } from 'vitest';
import type { KubeObject } from '../../../src/kube/index.js';
import { runKubectl } from '../../harness/kube.js';
import {
  createBackup,
  createOrdersPolicy,
  FAST_RESYNC_ARGS,
  mergePatch,
  pgbackupPath,
  useRunningController,
} from './controller-setup.js';

const WAIT = { timeout: 60_000, interval: 250 };

/** The names of the Backups kubectl lists in the namespace, with a label selector if given. */
async function backupNames(namespace: string, selector?: string): Promise<string[]> {
  const args = ['get', 'backups', '-n', namespace, '-o', 'json'];
  const result = await runKubectl(selector === undefined ? args : [...args, '-l', selector]);
  expect(result.code, result.stderr).toBe(0);
  const list = JSON.parse(result.stdout) as { items: KubeObject[] };
  return list.items.map((item) => item.metadata.name).sort();
}

describe("the controller bounds a policy's records and labels them", () => {
  const running = useRunningController(FAST_RESYNC_ARGS);

  it('keeps only the newest three Skipped Backups of a line, and every other record', async () => {
    const { env } = running;
    await createOrdersPolicy(env);
    // Six skipped monthly triggers (the 28th to the 30th of two months), a failed and a
    // completed run, as runners record them.
    const skipped = [1, 2, 3, 4, 5, 6].map((n) => `orders-monthly-skipped-${n}`);
    for (const [index, name] of skipped.entries()) {
      await createBackup(env, name, { type: 'binary', line: 'monthly' });
      await mergePatch(env, `${pgbackupPath(env.namespace, 'backups', name)}/status`, {
        status: {
          phase: 'Skipped',
          message: 'not the last day of the month',
          completedAt: `2026-0${index < 3 ? 3 : 4}-${28 + (index % 3)}T01:00:00Z`,
        },
      });
    }
    for (const [name, phase] of [
      ['orders-monthly-failed', 'Failed'],
      ['orders-daily-completed', 'Completed'],
    ] as const) {
      await createBackup(env, name, { type: 'binary', line: 'daily' });
      await mergePatch(env, `${pgbackupPath(env.namespace, 'backups', name)}/status`, {
        status: { phase, completedAt: '2026-01-01T01:00:00Z' },
      });
    }

    await vi.waitFor(async () => {
      expect(await backupNames(env.namespace)).toEqual(
        [
          'orders-daily-completed',
          'orders-monthly-failed',
          'orders-monthly-skipped-4',
          'orders-monthly-skipped-5',
          'orders-monthly-skipped-6',
        ].sort(),
      );
    }, WAIT);
  });

  it('labels a Backup made by hand, so kubectl -l lists it with the runs of the policy', async () => {
    const { env } = running;
    await createBackup(env, 'before-upgrade', { type: 'binary' });
    await vi.waitFor(async () => {
      expect(
        await backupNames(env.namespace, 'pgbackup.dev/policy=orders,pgbackup.dev/type=binary'),
      ).toContain('before-upgrade');
    }, WAIT);
  });
});
