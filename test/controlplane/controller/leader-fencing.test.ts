/**
 * A deposed leader stops writing: two controller processes, the first reaching the API
 * server through the fault proxy. The proxy holds the first's Lease requests and writes
 * while a reconcile of it is in flight; it steps down at its renew deadline, its held write
 * is cut off (not retried once the connection breaks), the second takes over, and from
 * then on nothing the first sends is a write (issue 14, finding 5).
 */
import { KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { BACKUP_POLICY_PLURAL } from '../../../src/api/index.js';
import {
  type ControllerProcess,
  readMetrics,
  sumMetric,
  writeKubeConfigFile,
} from '../../harness/controller-process.js';
import {
  type HttpFaultProxy,
  type SeenRequest,
  startHttpFaultProxy,
} from '../../harness/http-fault-proxy.js';
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
const TIMINGS = [
  '--lease-duration-seconds',
  '6',
  '--renew-deadline-seconds',
  '3',
  '--retry-period-seconds',
  '1',
  // Every policy is reconciled every 2 s by whoever leads: a leader that kept leading writes.
  '--resync-seconds',
  '2',
];

const isLease = (request: SeenRequest) => request.url.includes('/leases');
const isWrite = (request: SeenRequest) => request.method !== 'GET' && !isLease(request);

async function isLeading(controller: ControllerProcess): Promise<boolean> {
  return sumMetric(await readMetrics(controller), 'pgbackup_controller_leader') === 1;
}

/** The chart's service account (a token, which passes the proxy) pointed at the proxy. */
function throughProxy(env: ControllerTestEnv, proxy: HttpFaultProxy): string {
  const user = env.serviceAccount.getCurrentUser();
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromOptions({
    clusters: [{ name: 'proxy', server: proxy.url, skipTLSVerify: true }],
    users: [{ name: 'controller', token: user?.token }],
    contexts: [{ name: 'proxy', cluster: 'proxy', user: 'controller' }],
    currentContext: 'proxy',
  });
  return writeKubeConfigFile(kubeConfig);
}

const suspendedOf = async (env: ControllerTestEnv) =>
  [...(await cronJobsIn(env)).values()].map(
    (cronJob) => (cronJob.spec as { suspend?: boolean }).suspend ?? false,
  );

describe('a leader that cannot renew stops its workers before the standby takes over', () => {
  let env: ControllerTestEnv;
  let proxy: HttpFaultProxy;
  const controllers: ControllerProcess[] = [];

  beforeAll(async () => {
    env = await prepareControllerTest();
    const upstream = env.admin.getCurrentCluster()?.server;
    if (upstream === undefined) throw new Error('the admin kubeconfig names no API server');
    proxy = await startHttpFaultProxy({ upstream, tls: true });
  });

  afterAll(async () => {
    for (const controller of controllers) await controller.kill();
    await proxy?.close();
    await env?.cleanUp();
  });

  it('cuts off the in-flight reconcile and writes nothing once deposed', async () => {
    const first = await startController(
      env,
      ['--identity', 'first', ...TIMINGS],
      throughProxy(env, proxy),
    );
    controllers.push(first);
    await vi.waitFor(async () => expect(await isLeading(first)).toBe(true), WAIT);
    const second = await startController(env, ['--identity', 'second', ...TIMINGS]);
    controllers.push(second);
    await createOrdersPolicy(env);
    await vi.waitFor(
      async () => expect(await suspendedOf(env)).toEqual([false, false, false]),
      WAIT,
    );
    expect(await isLeading(second)).toBe(false);

    // From now on the first's Lease requests and writes hang, unanswered.
    // Requests that arrived before this (the first's RBAC writes may still be in flight) are not
    // the deposed leader's.
    const since = proxy.arrivals();
    const hold = { kind: 'hold' } as const;
    proxy.addRule({ match: isLease, action: hold, times: Number.POSITIVE_INFINITY });
    proxy.addRule({ match: isWrite, action: hold, times: Number.POSITIVE_INFINITY });
    const heldWrite = proxy.waitForRequest(isWrite, 60_000);
    await mergePatch(env, pgbackupPath(env.namespace, BACKUP_POLICY_PLURAL, 'orders'), {
      spec: { suspend: true },
    });
    // The first reconciles the change: its write is in flight, held by the proxy.
    await heldWrite;

    await vi.waitFor(async () => expect(await isLeading(second)).toBe(true), WAIT);
    await vi.waitFor(async () => expect(await suspendedOf(env)).toEqual([true, true, true]), WAIT);
    expect(await isLeading(first)).toBe(false);
    expect(first.logs()).toContain('reconcile stopped: no longer the leader');

    // Let everything through again: the held connections break. An unfenced client would
    // send its (idempotent) write again now; a leader that kept leading would write too.
    proxy.clear();
    await mergePatch(env, pgbackupPath(env.namespace, BACKUP_POLICY_PLURAL, 'orders'), {
      spec: { suspend: false },
    });
    await vi.waitFor(
      async () => expect(await suspendedOf(env)).toEqual([false, false, false]),
      WAIT,
    );
    // Two more resyncs of the second: time in which a first that still led would write.
    const reconciles = async () =>
      sumMetric(await readMetrics(second), 'pgbackup_controller_reconciles_total');
    const reconciledBefore = await reconciles();
    await vi.waitFor(
      async () => expect(await reconciles()).toBeGreaterThanOrEqual(reconciledBefore + 2),
      WAIT,
    );
    const writesByFirst = proxy.handled.filter(
      (request) =>
        request.arrival >= since && isWrite(request) && typeof request.outcome === 'number',
    );
    expect(writesByFirst).toEqual([]);
    expect(await isLeading(first)).toBe(false);
  });
});
