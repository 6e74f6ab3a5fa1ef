import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { BACKUP_POLICY_PLURAL } from '../../../src/api/index.js';
import { type ControllerProcess, writeKubeConfigFile } from '../../harness/controller-process.js';
import { ExtraApiServer, kubeConfigFor } from '../../harness/extra-apiserver.js';
import {
  type ControllerTestEnv,
  createOrdersPolicy,
  cronJobsIn,
  mergePatch,
  pgbackupPath,
  prepareControllerTest,
  startController,
} from './controller-setup.js';

const WAIT = { timeout: 90_000, interval: 250 };

describe('an API server restarted under a running controller', () => {
  let env: ControllerTestEnv;
  let apiServer: ExtraApiServer;
  let controller: ControllerProcess;

  beforeAll(async () => {
    env = await prepareControllerTest();
    apiServer = await ExtraApiServer.create();
    await apiServer.start(env.admin);
    const kubeconfig = writeKubeConfigFile(kubeConfigFor(env.serviceAccount, apiServer.url));
    controller = await startController(env, ['--watchdog-seconds', '10'], kubeconfig);
  });

  afterAll(async () => {
    await controller?.kill();
    await apiServer?.kill();
    await env?.cleanUp();
  });

  it('recovers without being restarted and reconciles what changed meanwhile', async () => {
    await createOrdersPolicy(env);
    await vi.waitFor(async () => expect((await cronJobsIn(env)).size).toBe(3), WAIT);

    await apiServer.kill();
    // Changed through the shared API server while the controller's own is down.
    await mergePatch(env, pgbackupPath(env.namespace, BACKUP_POLICY_PLURAL, 'orders'), {
      spec: { binary: { lines: { weekly: null } }, schedule: { time: '05:45' } },
    });
    await new Promise((resolve) => setTimeout(resolve, 2000));
    await apiServer.start(env.admin);

    await vi.waitFor(async () => {
      const cronJobs = await cronJobsIn(env);
      expect([...cronJobs.keys()].sort()).toEqual([
        'orders-binary-daily',
        'orders-logical-monthly',
      ]);
      const daily = cronJobs.get('orders-binary-daily')?.spec as { schedule?: string } | undefined;
      expect(daily?.schedule).toBe('45 5 * * *');
    }, WAIT);
    // The same process throughout: it saw the outage and came back by itself.
    expect(controller.logs()).toContain('list or watch failed; retrying');
    expect(controller.logs()).not.toContain('"msg":"stopped"');
  });
});
