/**
 * What the tests of a policy's replication slots and WAL receiver share: the slots on the
 * shared primary, the Events of the test's namespace, objects that may be gone, and the
 * receiver's pod, which the test reports ready as a kubelet would (nothing runs it).
 */
import { expect, vi } from 'vitest';
import { isNotFound, type KubeObject } from '../../../src/kube/index.js';
import { WAL_RECEIVER_SETTINGS_ANNOTATION } from '../../../src/render/index.js';
import { runKubectl } from '../../harness/kube.js';
import { superuserClient, withClient } from '../../harness/postgres.js';
import { type ControllerTestEnv, mergePatch } from './controller-setup.js';

/** Whether a replication slot of that name exists on the shared primary. */
export async function slotExists(name: string): Promise<boolean> {
  return withClient(superuserClient('primary'), async (client) => {
    const result = await client.query('SELECT 1 FROM pg_replication_slots WHERE slot_name = $1', [
      name,
    ]);
    return result.rowCount === 1;
  });
}

/** Drops the slot from the shared primary if it is there (clean-up). */
export async function dropSlotIfPresent(name: string): Promise<void> {
  await withClient(superuserClient('primary'), (client) =>
    client.query(
      'SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1',
      [name],
    ),
  );
}

/** The notes of the namespace's Events of one reason. */
export async function eventNotes(env: ControllerTestEnv, reason: string): Promise<string[]> {
  const result = await runKubectl([
    'get',
    'events.events.k8s.io',
    '-n',
    env.namespace,
    '-o',
    'json',
  ]);
  expect(result.code, result.stderr).toBe(0);
  const items = (JSON.parse(result.stdout) as { items: { reason?: string; note?: string }[] })
    .items;
  return items.filter((item) => item.reason === reason).map((item) => item.note ?? '');
}

/** An object as the admin reads it, or undefined when it does not exist. */
export async function getIfPresent(
  env: ControllerTestEnv,
  path: string,
): Promise<KubeObject | undefined> {
  try {
    return await env.client.request<KubeObject>({ verb: 'get', path, what: `get ${path}` });
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

/** The pods of the policy `orders`'s WAL receiver. */
export async function receiverPods(env: ControllerTestEnv): Promise<KubeObject[]> {
  const list = await env.client.request<{ items: KubeObject[] }>({
    verb: 'list',
    path: `/api/v1/namespaces/${env.namespace}/pods`,
    query: { labelSelector: 'app.kubernetes.io/component=wal-receiver,pgbackup.dev/policy=orders' },
    what: 'list the WAL receiver pods',
  });
  return list.items;
}

/**
 * Waits for the receiver's one pod (with `settings`, the pod template's settings hash, when
 * given: the pod of a Deployment that rolled) and reports it Running and Ready, as a kubelet would.
 */
export async function reportReceiverPodReady(
  env: ControllerTestEnv,
  settings?: string,
): Promise<void> {
  const [pod] = await vi.waitFor(
    async () => {
      const pods = await receiverPods(env);
      expect(pods).toHaveLength(1);
      if (settings !== undefined) {
        expect(pods[0]?.metadata.annotations?.[WAL_RECEIVER_SETTINGS_ANNOTATION]).toBe(settings);
      }
      return pods;
    },
    { timeout: 60_000, interval: 500 },
  );
  const now = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
  await mergePatch(env, `/api/v1/namespaces/${env.namespace}/pods/${pod?.metadata.name}/status`, {
    status: {
      phase: 'Running',
      conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: now }],
    },
  });
}
