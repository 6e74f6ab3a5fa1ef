/**
 * The primary's disk: a killed binary run leaves its replication slot (named per policy), which
 * holds WAL until the next run drops it. The controller shows the slot and the WAL it holds in
 * the policy's status and metrics, drops it once the policy is suspended, and, through a
 * finalizer, when the policy is deleted. Against the real API server and the shared primary,
 * with a slot of this test's own policy (its namespace is unique), created as a killed run
 * leaves it and always dropped at the end.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { BACKUP_POLICY_PLURAL } from '../../../src/api/index.js';
import type { KubeObject } from '../../../src/kube/index.js';
import { replicationSlotNameOf } from '../../../src/postgres/index.js';
import { createPostgresPod } from '../../harness/cluster-objects.js';
import {
  type ControllerProcess,
  readMetrics,
  sumMetric,
} from '../../harness/controller-process.js';
import { runKubectl } from '../../harness/kube.js';
import { superuserClient, withClient } from '../../harness/postgres.js';
import { requireEnv } from '../../harness/variables.js';
import {
  applyRunnerPolicy,
  type ControllerTestEnv,
  FAST_RESYNC_ARGS,
  mergePatch,
  pgbackupPath,
  prepareControllerTest,
  startController,
} from './controller-setup.js';
import { dropSlotIfPresent, eventNotes, slotExists } from './slots-and-receivers.js';

const WAIT = { timeout: 60_000, interval: 500 };

/** Creates the slot as a binary run does (reserving WAL now), then writes some WAL past it. */
async function leaveSlotBehind(name: string): Promise<void> {
  await withClient(superuserClient('primary'), async (client) => {
    await client.query('SELECT pg_create_physical_replication_slot($1, true)', [name]);
    await client.query(
      "SELECT pg_logical_emit_message(false, 'pgbackup-test', repeat('x', 65536))",
    );
  });
}

async function readPolicy(env: ControllerTestEnv): Promise<KubeObject | undefined> {
  const result = await runKubectl([
    'get',
    'backuppolicy',
    'orders',
    '-n',
    env.namespace,
    '-o',
    'json',
    '--ignore-not-found',
  ]);
  expect(result.code, result.stderr).toBe(0);
  return result.stdout.trim() === '' ? undefined : (JSON.parse(result.stdout) as KubeObject);
}

describe("the controller and a policy's leftover replication slot", () => {
  let env: ControllerTestEnv;
  let controller: ControllerProcess;
  let slot = '';
  let policyPath = '';

  beforeAll(async () => {
    env = await prepareControllerTest();
    slot = replicationSlotNameOf(env.namespace, 'orders');
    policyPath = pgbackupPath(env.namespace, BACKUP_POLICY_PLURAL, 'orders');
    controller = await startController(env, FAST_RESYNC_ARGS);
    await createPostgresPod(env.namespace, {
      fixture: 'controller/postgres-pod.yaml',
      address: requireEnv('PGBACKUP_PRIMARY'),
    });
    await applyRunnerPolicy(env, {});
  });

  afterAll(async () => {
    if (slot !== '') await dropSlotIfPresent(slot);
    const code = await controller?.stop();
    expect(code, controller?.logs()).toBe(0);
    await env?.cleanUp();
  });

  it('shows the slot and the WAL it holds in status and metrics', async () => {
    await leaveSlotBehind(slot);
    await vi.waitFor(async () => {
      const policy = await readPolicy(env);
      expect(policy?.metadata).toMatchObject({ finalizers: ['pgbackup.dev/replication-slot'] });
      const status = policy?.status as { replicationSlot?: Record<string, unknown> } | undefined;
      const shown = status?.replicationSlot;
      expect(shown).toMatchObject({ name: slot, leftover: true });
      expect(shown?.retainedBytes).toBeGreaterThanOrEqual(65536);
      const metrics = await readMetrics(controller);
      const labels = { namespace: env.namespace, policy: 'orders', slot };
      expect(sumMetric(metrics, 'pgbackup_replication_slot_retained_bytes', labels)).toBe(
        shown?.retainedBytes,
      );
      expect(sumMetric(metrics, 'pgbackup_replication_slot_leftover', labels)).toBe(1);
    }, WAIT);
  });

  it('drops it once the policy is suspended, and says so', async () => {
    await mergePatch(env, policyPath, { spec: { suspend: true } });
    await vi.waitFor(async () => {
      expect(await slotExists(slot)).toBe(false);
      const policy = await readPolicy(env);
      expect(policy?.status).not.toHaveProperty('replicationSlot');
      const metrics = await readMetrics(controller);
      expect(metrics).not.toContain(`slot="${slot}"`);
      expect((await eventNotes(env, 'ReplicationSlotDropped')).join('\n')).toContain(slot);
    }, WAIT);
  });

  it('drops it when the policy is deleted, and the policy goes', async () => {
    await mergePatch(env, policyPath, { spec: { suspend: false } });
    await leaveSlotBehind(slot);
    await vi.waitFor(async () => {
      const policy = await readPolicy(env);
      expect(policy?.status).toMatchObject({ replicationSlot: { name: slot } });
    }, WAIT);

    const deleted = await runKubectl([
      'delete',
      'backuppolicy',
      'orders',
      '-n',
      env.namespace,
      '--timeout=90s',
    ]);
    expect(deleted.code, deleted.stderr).toBe(0);

    expect(await slotExists(slot)).toBe(false);
    expect(await readPolicy(env)).toBeUndefined();
  });

  it('releases a deleted policy at once when its primary cannot be found, with a Warning', async () => {
    await applyRunnerPolicy(env, {
      target: {
        selector: { matchLabels: { app: 'no-such-server' } },
        credentials: { secretName: 'orders-superuser' },
      },
    });
    await vi.waitFor(async () => {
      const policy = await readPolicy(env);
      expect(policy?.metadata).toMatchObject({ finalizers: ['pgbackup.dev/replication-slot'] });
    }, WAIT);

    const deleted = await runKubectl([
      'delete',
      'backuppolicy',
      'orders',
      '-n',
      env.namespace,
      '--timeout=90s',
    ]);
    expect(deleted.code, deleted.stderr).toBe(0);

    expect(await readPolicy(env)).toBeUndefined();
    const warnings = await eventNotes(env, 'ReplicationSlotNotDropped');
    expect(warnings.join('\n')).toContain(`pg_drop_replication_slot('${slot}')`);
  });
});
