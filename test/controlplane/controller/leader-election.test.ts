import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { BACKUP_POLICY_PLURAL } from '../../../src/api/index.js';
import {
  type ControllerProcess,
  readMetrics,
  sumMetric,
} from '../../harness/controller-process.js';
import {
  type ControllerTestEnv,
  createOrdersPolicy,
  cronJobsIn,
  mergePatch,
  pgbackupPath,
  prepareControllerTest,
  startController,
} from './controller-setup.js';

const WAIT = { timeout: 60_000, interval: 250 };

async function isLeading(controller: ControllerProcess): Promise<boolean> {
  return sumMetric(await readMetrics(controller), 'pgbackup_controller_leader') === 1;
}

describe('two controllers: one leads, the other takes over', () => {
  let env: ControllerTestEnv;
  const controllers: ControllerProcess[] = [];

  beforeAll(async () => {
    env = await prepareControllerTest();
    for (const identity of ['first', 'second']) {
      controllers.push(
        await startController(env, [
          '--identity',
          identity,
          '--lease-duration-seconds',
          '4',
          '--renew-deadline-seconds',
          '3',
          '--retry-period-seconds',
          '1',
        ]),
      );
    }
  });

  afterAll(async () => {
    for (const controller of controllers) await controller.kill();
    await env?.cleanUp();
  });

  it('reconciles a change made while the leader was gone once the standby takes over', async () => {
    await createOrdersPolicy(env);
    await vi.waitFor(async () => expect((await cronJobsIn(env)).size).toBe(3), WAIT);
    const leading = await Promise.all(controllers.map(isLeading));
    expect(leading.filter(Boolean)).toHaveLength(1);
    const leader = controllers[leading.indexOf(true)];
    const standby = controllers[leading.indexOf(false)];
    if (leader === undefined || standby === undefined) throw new Error('no leader or no standby');

    // A standby keeps its caches warm but writes nothing.
    const standbyMetrics = await readMetrics(standby);
    const standbyWrites = ['create', 'patch', 'delete'].map((verb) =>
      sumMetric(standbyMetrics, 'pgbackup_controller_api_requests_total', { verb }),
    );
    expect(standbyWrites).toEqual([0, 0, 0]);

    // Killed, not stopped: it cannot release the Lease, so the standby must wait it out.
    await leader.kill();
    await mergePatch(env, pgbackupPath(env.namespace, BACKUP_POLICY_PLURAL, 'orders'), {
      spec: { suspend: true },
    });
    await vi.waitFor(async () => {
      const cronJobs = [...(await cronJobsIn(env)).values()];
      expect(cronJobs.map((cronJob) => (cronJob.spec as { suspend?: boolean }).suspend)).toEqual([
        true,
        true,
        true,
      ]);
    }, WAIT);
    expect(await isLeading(standby)).toBe(true);
    expect(standby.logs()).toContain('became the leader');
  });
});
