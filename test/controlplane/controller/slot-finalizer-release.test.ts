/**
 * The finalizer on a deleted policy never blocks its deletion for ever: while the primary does
 * not answer, the policy stays (its slot may still hold WAL) and is tried again; once
 * SLOT_RELEASE_AFTER_MS have passed since the deletion it is released with a Warning that says
 * how to drop the slot by hand. The watch runs in this process against the real API server,
 * with the clock a parameter, and a primary that refuses every connection.
 */
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKUP_POLICY_PLURAL, parseBackupPolicy } from '../../../src/api/index.js';
import {
  createControllerMetrics,
  ReplicationSlotWatch,
  SLOT_FINALIZER,
  SLOT_RELEASE_AFTER_MS,
} from '../../../src/controller/index.js';
import {
  connectionOfKubeConfig,
  KubeClient,
  type KubeObject,
  MergedCache,
} from '../../../src/kube/index.js';
import {
  PostgresError,
  replicationSlotNameOf,
  walSlotNameOf,
} from '../../../src/postgres/index.js';
import {
  type ControllerTestEnv,
  createOrdersPolicy,
  mergePatch,
  ordersPolicy,
  pgbackupPath,
  prepareControllerTest,
} from './controller-setup.js';

type Event = { type: string; reason: string; note: string };

describe('a deleted policy whose primary does not answer', () => {
  let env: ControllerTestEnv;
  let client: KubeClient;

  beforeAll(async () => {
    env = await prepareControllerTest();
    // As the controller: the chart's service account, so its RBAC is what is tested.
    client = await KubeClient.create(connectionOfKubeConfig(env.serviceAccount));
  });

  afterAll(async () => {
    client?.close();
    await env?.cleanUp();
  });

  it('is kept while it is tried again, then released with a Warning after the grace period', async () => {
    const created = await createOrdersPolicy(env);
    const path = pgbackupPath(env.namespace, BACKUP_POLICY_PLURAL, 'orders');
    await mergePatch(env, path, { metadata: { finalizers: [SLOT_FINALIZER] } });
    await env.client.request({ verb: 'delete', path, what: 'delete the policy' });
    const deleting = await env.client.request<KubeObject>({ verb: 'get', path, what: 'get' });
    const deletedAtMs = Date.parse(deleting.metadata.deletionTimestamp ?? '');
    expect(deletedAtMs).toBeGreaterThan(0);
    const parsed = parseBackupPolicy({ ...created, status: undefined });
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues));

    const events: Event[] = [];
    let nowMs = deletedAtMs + 60_000;
    const refused = () =>
      Promise.reject(new PostgresError('could not connect to 10.0.0.9:5432: ECONNREFUSED'));
    const watch = new ReplicationSlotWatch({
      client,
      access: { find: refused, drop: refused },
      jobs: new MergedCache([]),
      metrics: createControllerMetrics(() => 0),
      event: async (_object, event) => {
        events.push(event);
      },
      log: pino({ level: 'silent' }),
      now: () => new Date(nowMs),
      checkIntervalMs: 60_000,
    });

    const early = await watch.finalize(deleting, parsed.value);
    expect(early.requeueAfterMs).toBeGreaterThan(0);
    const kept = await env.client.request<KubeObject>({ verb: 'get', path, what: 'get' });
    expect(kept.metadata).toMatchObject({ finalizers: [SLOT_FINALIZER] });
    expect(events).toEqual([]);

    nowMs = deletedAtMs + SLOT_RELEASE_AFTER_MS + 1000;
    expect(await watch.finalize(kept, parsed.value)).toEqual({});
    const gone = await env.client
      .request({ verb: 'get', path, what: 'get' })
      .then(() => false)
      .catch(() => true);
    expect(gone).toBe(true);
    const slot = replicationSlotNameOf(env.namespace, 'orders');
    expect(events).toEqual([
      {
        type: 'Warning',
        reason: 'ReplicationSlotNotDropped',
        note: expect.stringContaining(`pg_drop_replication_slot('${slot}')`),
      },
    ]);
    expect(events[0]?.note).toContain('ECONNREFUSED');
  });

  it("is kept while its WAL receiver's pod does not go, then released with a Warning naming both slots", async () => {
    const created = await env.client.request<KubeObject>({
      verb: 'create',
      path: pgbackupPath(env.namespace, BACKUP_POLICY_PLURAL),
      body: {
        ...ordersPolicy(env.namespace),
        metadata: { name: 'billing', namespace: env.namespace },
      },
      what: 'create policy',
    });
    const path = pgbackupPath(env.namespace, BACKUP_POLICY_PLURAL, 'billing');
    await mergePatch(env, path, {
      metadata: { finalizers: [SLOT_FINALIZER] },
      spec: { continuous: { enabled: true } },
    });
    await env.client.request({ verb: 'delete', path, what: 'delete the policy' });
    const deleting = await env.client.request<KubeObject>({ verb: 'get', path, what: 'get' });
    const deletedAtMs = Date.parse(deleting.metadata.deletionTimestamp ?? '');
    const parsed = parseBackupPolicy({ ...deleting, status: undefined });
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues));
    expect(created.metadata.name).toBe('billing');

    const events: Event[] = [];
    const drops: string[] = [];
    let nowMs = deletedAtMs + 60_000;
    const watch = new ReplicationSlotWatch({
      client,
      access: {
        find: async () => undefined,
        drop: async (_policy, kind) => {
          drops.push(kind);
          return undefined;
        },
      },
      jobs: new MergedCache([]),
      // A receiver pod that never goes (a node that stopped answering, say).
      stopWalReceiver: async () => false,
      metrics: createControllerMetrics(() => 0),
      event: async (_object, event) => {
        events.push(event);
      },
      log: pino({ level: 'silent' }),
      now: () => new Date(nowMs),
      checkIntervalMs: 60_000,
    });

    const early = await watch.finalize(deleting, parsed.value);
    expect(early.requeueAfterMs).toBeGreaterThan(0);
    // No slot is dropped while a receiver may still stream from it.
    expect(drops).toEqual([]);
    expect(events).toEqual([]);

    nowMs = deletedAtMs + SLOT_RELEASE_AFTER_MS + 1000;
    expect(await watch.finalize(deleting, parsed.value)).toEqual({});
    const gone = await env.client
      .request({ verb: 'get', path, what: 'get' })
      .then(() => false)
      .catch(() => true);
    expect(gone).toBe(true);
    expect(drops).toEqual([]);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ type: 'Warning', reason: 'ReplicationSlotNotDropped' });
    expect(events[0]?.note).toContain("WAL receiver's pod was still there");
    expect(events[0]?.note).toContain(
      `pg_drop_replication_slot('${walSlotNameOf(env.namespace, 'billing')}')`,
    );
  });
});
