/**
 * The running controller: informers over the watched namespaces, one work queue of policy
 * keys, workers that reconcile while this instance leads, a periodic full resync, and the
 * leader election that decides which instance writes.
 */
import type { Logger } from 'pino';
import {
  type BackoffPolicy,
  EventRecorder,
  Informer,
  KubeClient,
  type KubeConnection,
  type KubeObject,
  KubeRequestAbortedError,
  type LeaderElectionOptions,
  LeaderElector,
  MergedCache,
  type ObjectCache,
  RESOURCES,
  type ResourceType,
  WorkQueue,
} from '../kube/index.js';
import { MANAGED_SELECTOR, type RunSettings } from '../render/index.js';
import { BackupIndex, policyKeyOfBackup } from './backup-index.js';
import { type ControllerMetrics, createControllerMetrics } from './controller-metrics.js';
import { type ControllerCaches, PolicyReconciler } from './policy-reconciler.js';
import type { PolicySlotAccess } from './replication-slots.js';
import { resourceOfPath } from './request-resource.js';
import { RESTORE_KEY_PREFIX, type RestoreReconcilerDeps, reconcileRestore } from './restores.js';

/** How the controller runs. */
export interface ControllerOptions {
  readonly connection: KubeConnection;
  /** Namespaces to watch; empty: all. */
  readonly namespaces: readonly string[];
  readonly settings: RunSettings;
  /** Every policy is reconciled again this often, whatever changed. */
  readonly resyncMs: number;
  /** A watch silent for this long is restarted. */
  readonly watchdogMs: number;
  readonly workers: number;
  readonly leaderElection: Omit<LeaderElectionOptions, 'log'>;
  readonly queueBackoff: BackoffPolicy;
  readonly log: Logger;
  readonly now: () => Date;
  /**
   * Reaches a policy's primary for its replication slot, with the controller's client (the
   * runner's code, wired in by the command); absent, slots are neither shown nor dropped.
   */
  readonly slotAccess?: ((client: KubeClient) => PolicySlotAccess) | undefined;
}

const WATCH_BACKOFF: BackoffPolicy = { baseMs: 500, maxMs: 10_000 };

/** The policy key an owned object (or a Backup) belongs to, if any. */
function policyKeyOf(kind: string, object: KubeObject, backups: ObjectCache): string | undefined {
  const namespace = object.metadata.namespace ?? '';
  if (kind === 'Backup') return policyKeyOfBackup(object);
  const policyOwner = object.metadata.ownerReferences?.find(
    (owner) => owner.kind === 'BackupPolicy',
  );
  if (policyOwner !== undefined) return `${namespace}/${policyOwner.name}`;
  // An on-demand Job is owned by its Backup, which names the policy.
  const backupOwner = object.metadata.ownerReferences?.find((owner) => owner.kind === 'Backup');
  if (backupOwner === undefined) return undefined;
  return policyKeyOf('Backup', backups.get(`${namespace}/${backupOwner.name}`) ?? object, backups);
}

/** The work-queue key of the Restore that owns an object (its Job), if any. */
function restoreKeyOf(object: KubeObject): string | undefined {
  const owner = object.metadata.ownerReferences?.find((reference) => reference.kind === 'Restore');
  if (owner === undefined) return undefined;
  return `${RESTORE_KEY_PREFIX}${object.metadata.namespace ?? ''}/${owner.name}`;
}

function abortedController(): AbortController {
  const controller = new AbortController();
  controller.abort();
  return controller;
}

/** One controller instance. */
export class Controller {
  readonly metrics: ControllerMetrics;
  readonly #options: ControllerOptions;
  readonly #queue: WorkQueue;
  readonly #informers: Informer[] = [];
  #client: KubeClient | undefined;
  #elector: LeaderElector | undefined;
  /**
   * The current term of leadership: aborted when this instance steps down, which cuts off
   * every request of the reconciles (they run on a client fenced by it). Starts aborted.
   */
  #term = abortedController();
  #reconciler: PolicyReconciler | undefined;
  #caches: ControllerCaches | undefined;
  #restores: MergedCache | undefined;
  #restoreDeps: RestoreReconcilerDeps | undefined;
  #workers: Promise<void>[] = [];
  #resyncTimer: NodeJS.Timeout | undefined;
  #synced = false;

  constructor(options: ControllerOptions) {
    this.#options = options;
    this.#queue = new WorkQueue(options.queueBackoff);
    this.metrics = createControllerMetrics(() => this.#queue.depth);
  }

  /** Whether the caches are filled (readiness). */
  get ready(): boolean {
    return this.#synced;
  }

  /** Whether this instance leads. */
  get leading(): boolean {
    return this.#elector?.leading ?? false;
  }

  #informersOf(client: KubeClient, resource: ResourceType, labelSelector?: string): Informer[] {
    const namespaces = this.#options.namespaces.length > 0 ? this.#options.namespaces : [undefined];
    const informers = namespaces.map(
      (namespace) =>
        new Informer(client, {
          resource,
          namespace,
          ...(labelSelector !== undefined ? { labelSelector } : {}),
          watchdogMs: this.#options.watchdogMs,
          watchTimeoutSeconds: 300,
          backoff: WATCH_BACKOFF,
          log: this.#options.log,
        }),
    );
    this.#informers.push(...informers);
    return informers;
  }

  /** Starts watching, campaigning and (once leading) reconciling. */
  async start(): Promise<void> {
    const { log } = this.#options;
    const client = await KubeClient.create(this.#options.connection, {
      onRequest: (verb, code, path) =>
        this.metrics.apiRequests.inc({ verb, resource: resourceOfPath(path), code: String(code) }),
    });
    this.#client = client;
    // Built first: timings that would let a deposed leader overlap its successor are refused
    // before anything is watched.
    const elector = new LeaderElector(client, { ...this.#options.leaderElection, log });
    this.#elector = elector;
    // Reconciles write only while this instance leads: their requests end the moment it
    // steps down, before the lease runs out and another instance can take over.
    const fenced = client.withOptions({ fence: () => this.#term.signal });
    const caches = this.#createCaches(client);
    this.#caches = caches;
    const identity = this.#options.leaderElection.identity;
    this.#reconciler = new PolicyReconciler({
      client: fenced,
      caches,
      events: new EventRecorder(fenced, identity, log),
      metrics: this.metrics,
      settings: this.#options.settings,
      log,
      now: this.#options.now,
      slotAccess: this.#options.slotAccess?.(fenced),
      // Slots are looked at as often as every policy is reconciled anyway.
      slotCheckIntervalMs: this.#options.resyncMs,
    });
    this.#restoreDeps = {
      client: fenced,
      restores: this.#restores as MergedCache,
      policies: caches.policies,
      jobs: caches.jobs,
      settings: this.#options.settings,
      now: this.#options.now,
    };
    for (const informer of this.#informers) informer.start();
    await Promise.all(this.#informers.map((informer) => informer.waitForSync()));
    this.#synced = true;
    log.info({ namespaces: this.#options.namespaces }, 'caches synced');
    elector.onChange((leading) => {
      if (leading) this.#term = new AbortController();
      else this.#term.abort();
      this.metrics.leader.set(leading ? 1 : 0);
      // A new leader trusts nothing it did not see: every policy is reconciled.
      if (leading) this.#enqueueAll();
    });
    elector.start();
    this.#workers = Array.from({ length: this.#options.workers }, () => this.#work());
    this.#resyncTimer = setInterval(() => this.#enqueueAll(), this.#options.resyncMs);
  }

  #createCaches(client: KubeClient): ControllerCaches {
    const merged = (resource: ResourceType, selector?: string) =>
      new MergedCache(this.#informersOf(client, resource, selector));
    const backups = merged(RESOURCES.backup);
    const caches = {
      policies: merged(RESOURCES.backupPolicy),
      backups,
      // Registered before the informers start, so it sees every Backup they list.
      backupsByPolicy: new BackupIndex(backups),
      cronJobs: merged(RESOURCES.cronJob, MANAGED_SELECTOR),
      jobs: merged(RESOURCES.job, MANAGED_SELECTOR),
      serviceAccounts: merged(RESOURCES.serviceAccount, MANAGED_SELECTOR),
      roles: merged(RESOURCES.role, MANAGED_SELECTOR),
      roleBindings: merged(RESOURCES.roleBinding, MANAGED_SELECTOR),
      deployments: merged(RESOURCES.deployment, MANAGED_SELECTOR),
      persistentVolumeClaims: merged(RESOURCES.persistentVolumeClaim, MANAGED_SELECTOR),
    };
    caches.policies.onChange((key) => this.#queue.add(key));
    this.#restores = merged(RESOURCES.restore);
    this.#restores.onChange((key) => this.#queue.add(`${RESTORE_KEY_PREFIX}${key}`));
    const kinds: [string, MergedCache][] = [
      ['Backup', caches.backups],
      ['CronJob', caches.cronJobs],
      ['Job', caches.jobs],
      ['ServiceAccount', caches.serviceAccounts],
      ['Role', caches.roles],
      ['RoleBinding', caches.roleBindings],
      ['Deployment', caches.deployments],
      ['PersistentVolumeClaim', caches.persistentVolumeClaims],
    ];
    for (const [kind, cache] of kinds) {
      cache.onChange((_key, object) => {
        const restoreKey = kind === 'Job' ? restoreKeyOf(object) : undefined;
        if (restoreKey !== undefined) this.#queue.add(restoreKey);
        const policyKey = policyKeyOf(kind, object, caches.backups);
        if (policyKey !== undefined) this.#queue.add(policyKey);
      });
    }
    return caches;
  }

  #enqueueAll(): void {
    if (!this.leading) return;
    for (const policy of this.#caches?.policies.list() ?? []) {
      this.#queue.add(`${policy.metadata.namespace ?? ''}/${policy.metadata.name}`);
    }
    for (const restore of this.#restores?.list() ?? []) {
      const key = `${restore.metadata.namespace ?? ''}/${restore.metadata.name}`;
      this.#queue.add(`${RESTORE_KEY_PREFIX}${key}`);
    }
  }

  async #work(): Promise<void> {
    for (;;) {
      const key = await this.#queue.get();
      if (key === undefined) return;
      try {
        // A standby keeps its caches warm but never writes; the new leader enqueues everything.
        if (this.leading) await this.#reconcileKey(key);
      } finally {
        this.#queue.done(key);
      }
    }
  }

  async #reconcileKey(key: string): Promise<void> {
    try {
      const result = key.startsWith(RESTORE_KEY_PREFIX)
        ? await this.#reconcileRestore(key.slice(RESTORE_KEY_PREFIX.length))
        : ((await this.#reconciler?.reconcile(key)) ?? {});
      this.#queue.forget(key);
      if (result.requeueAfterMs !== undefined) {
        this.metrics.reconciles.inc({ result: 'requeue' });
        this.#queue.addAfter(key, result.requeueAfterMs);
      } else {
        this.metrics.reconciles.inc({ result: 'success' });
      }
    } catch (error) {
      if (error instanceof KubeRequestAbortedError && !this.leading) {
        // Cut off by stepping down: whoever leads next reconciles every policy anyway.
        this.#options.log.info({ policy: key }, 'reconcile stopped: no longer the leader');
        return;
      }
      this.metrics.reconciles.inc({ result: 'error' });
      this.metrics.reconcileErrors.inc({ reason: error instanceof Error ? error.name : 'Unknown' });
      this.#options.log.warn(
        { err: error, policy: key },
        'reconcile failed; retrying with backoff',
      );
      this.#queue.addRateLimited(key);
    }
  }

  async #reconcileRestore(key: string): Promise<{ requeueAfterMs?: number }> {
    if (this.#restoreDeps !== undefined) await reconcileRestore(this.#restoreDeps, key);
    return {};
  }

  /** Stops reconciling, releases the Lease and stops watching. */
  async stop(): Promise<void> {
    clearInterval(this.#resyncTimer);
    this.#queue.shutDown();
    await Promise.all(this.#workers);
    await this.#elector?.stop();
    await Promise.all(this.#informers.map((informer) => informer.stop()));
    this.#client?.close();
  }
}
