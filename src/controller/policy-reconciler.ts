/**
 * The reconcile of one BackupPolicy, a chain of early returns in the manner of
 * CloudNativePG's scheduledbackup controller: gone → done; being deleted → done (the garbage
 * collector removes what it owns); invalid → say so in status and touch nothing else;
 * otherwise apply what differs, delete what is no longer wanted, start on-demand backups and
 * write the status if it changed. The key is all it gets: it reads the caches itself.
 */
import type { Logger } from 'pino';
import {
  API_VERSION,
  BACKUP_POLICY_KIND,
  type BackupPolicy,
  type BackupPolicyStatus,
} from '../api/index.js';
import {
  applyStatus,
  type EventRecorder,
  getObject,
  type KubeClient,
  type KubeObject,
  type ObjectCache,
  RESOURCES,
  type ResourceType,
  splitObjectKey,
} from '../kube/index.js';
import {
  type ContinuousConditionInput,
  configMapFieldsOf,
  findMissingReference,
  type PolicyProblem,
  policyOwnerOf,
  type ReconcileOutcome,
  type RunSettings,
  renderCronJobs,
  renderPolicyStatus,
  renderRunnerRbac,
  renderSlotTable,
  renderWalReceiver,
  secretFieldsOf,
  validatePolicyObject,
} from '../render/index.js';
import { retentionPlanOf } from '../retention/index.js';
import type { BackupIndex, BackupObject } from './backup-index.js';
import {
  type ControllerMetrics,
  forgetBackupMetrics,
  recordBackupMetrics,
  recordLineMetrics,
} from './controller-metrics.js';
import { jsonEqual } from './object-comparison.js';
import { reconcileOnDemandBackups } from './on-demand-backups.js';
import { applyChanged, deleteUnwanted } from './owned-objects.js';
import {
  type PolicySlotAccess,
  ReplicationSlotWatch,
  type SlotObservation,
} from './replication-slots.js';
import { deleteExcessSkippedRecords } from './skipped-records.js';
import { WalReceivers } from './wal-receivers.js';

/** The informer caches the reconciler reads. */
export interface ControllerCaches {
  readonly policies: ObjectCache;
  readonly backups: ObjectCache;
  /** The Backups of each policy, so a reconcile reads only its own. */
  readonly backupsByPolicy: BackupIndex;
  readonly cronJobs: ObjectCache;
  readonly jobs: ObjectCache;
  readonly serviceAccounts: ObjectCache;
  readonly roles: ObjectCache;
  readonly roleBindings: ObjectCache;
  /** WAL receivers' Deployments and spool claims (continuous protection). */
  readonly deployments: ObjectCache;
  readonly persistentVolumeClaims: ObjectCache;
}

/** Everything a reconcile uses, passed in. */
export interface ReconcilerDeps {
  readonly client: KubeClient;
  readonly caches: ControllerCaches;
  readonly events: EventRecorder;
  readonly metrics: ControllerMetrics;
  readonly settings: RunSettings;
  readonly log: Logger;
  /** The clock, a parameter so the logic below never reads it itself. */
  readonly now: () => Date;
  /** Reaches policies' primaries for their replication slots; absent, slots are not watched. */
  readonly slotAccess?: PolicySlotAccess | undefined;
  /** A policy's replication slot is looked at no more often than this. */
  readonly slotCheckIntervalMs?: number | undefined;
}

/** When to come back, if before the next change or resync. */
export interface ReconcileResult {
  readonly requeueAfterMs?: number;
}

/** A policy whose Secrets are missing is looked at again this often: nothing watches Secrets. */
const MISSING_SECRET_RECHECK_MS = 30_000;

/** How often a policy's replication slot is looked at unless the controller says otherwise. */
const DEFAULT_SLOT_CHECK_INTERVAL_MS = 300_000;

function cacheOfKind(caches: ControllerCaches, kind: string): ObjectCache {
  switch (kind) {
    case 'ServiceAccount':
      return caches.serviceAccounts;
    case 'Role':
      return caches.roles;
    case 'RoleBinding':
      return caches.roleBindings;
    case 'CronJob':
      return caches.cronJobs;
    case 'Deployment':
      return caches.deployments;
    case 'PersistentVolumeClaim':
      return caches.persistentVolumeClaims;
    default:
      return caches.jobs;
  }
}

/** Reconciles policies by key. */
export class PolicyReconciler {
  readonly #deps: ReconcilerDeps;
  readonly #slots: ReplicationSlotWatch | undefined;
  readonly #wal: WalReceivers;

  constructor(deps: ReconcilerDeps) {
    this.#deps = deps;
    this.#wal = new WalReceivers({
      client: deps.client,
      deployments: deps.caches.deployments,
      claims: deps.caches.persistentVolumeClaims,
      jobs: deps.caches.jobs,
      metrics: deps.metrics,
      event: (object, event) => this.#event(object, event),
      log: deps.log,
      now: deps.now,
      dropWalSlot:
        deps.slotAccess === undefined
          ? undefined
          : (object, policy, why) =>
              this.#slots?.dropWalSlot(object, policy, why) ?? Promise.resolve(false),
    });
    this.#slots =
      deps.slotAccess === undefined
        ? undefined
        : new ReplicationSlotWatch({
            client: deps.client,
            access: deps.slotAccess,
            jobs: deps.caches.jobs,
            stopWalReceiver: (object) => this.#wal.stop(object),
            metrics: deps.metrics,
            event: (object, event) => this.#event(object, event),
            log: deps.log,
            now: deps.now,
            checkIntervalMs: deps.slotCheckIntervalMs ?? DEFAULT_SLOT_CHECK_INTERVAL_MS,
          });
  }

  /** Brings one policy's objects and status in line with its spec. */
  async reconcile(key: string): Promise<ReconcileResult> {
    const { caches, metrics } = this.#deps;
    const { namespace, name } = splitObjectKey(key);
    const object = caches.policies.get(key);
    if (object === undefined) {
      forgetBackupMetrics(metrics, { namespace, name });
      this.#slots?.forget(namespace, name);
      this.#wal.forget(namespace, name);
      return {};
    }
    if (object.metadata.deletionTimestamp !== undefined) {
      // The garbage collector removes what the policy owns; its replication slot is ours to drop.
      const deleting = validatePolicyObject(object, name);
      return (await this.#slots?.finalize(object, deleting.ok ? deleting.policy : undefined)) ?? {};
    }
    const backups = caches.backupsByPolicy.backupsOf(namespace, name);
    const validity = validatePolicyObject(object, name);
    if (!validity.ok) {
      await this.#writeStatus(object, { kind: 'invalid', problem: validity.problem }, backups);
      return {};
    }
    const missing = await this.#findMissingReference(validity.policy);
    if (missing !== undefined) {
      await this.#writeStatus(object, { kind: 'invalid', problem: missing }, backups);
      return { requeueAfterMs: MISSING_SECRET_RECHECK_MS };
    }
    return this.#reconcileValid(object, validity.policy, backups);
  }

  async #findMissingReference(policy: BackupPolicy): Promise<PolicyProblem | undefined> {
    const namespace = policy.metadata.namespace ?? '';
    const existing = async (resource: ResourceType, fields: [string, string | undefined][]) => {
      const names = [...new Set(fields.flatMap(([, name]) => (name === undefined ? [] : [name])))];
      const found = await Promise.all(
        names.map((name) => getObject(this.#deps.client, resource, { namespace, name })),
      );
      return new Set(names.filter((_name, index) => found[index] !== undefined));
    };
    const [secrets, configMaps] = await Promise.all([
      existing(RESOURCES.secret, secretFieldsOf(policy)),
      existing(RESOURCES.configMap, configMapFieldsOf(policy)),
    ]);
    return findMissingReference(policy, {
      secretExists: (name) => secrets.has(name),
      configMapExists: (name) => configMaps.has(name),
    });
  }

  async #reconcileValid(
    object: KubeObject,
    policy: BackupPolicy,
    backups: readonly BackupObject[],
  ): Promise<ReconcileResult> {
    const { client, caches, settings } = this.#deps;
    const uid = object.metadata.uid ?? '';
    const owner = policyOwnerOf(policy, uid);
    const cronJobs = renderCronJobs({ policy, uid, settings });
    const manifests = [
      ...renderRunnerRbac(policy, owner),
      ...cronJobs.map((cronJob) => cronJob.manifest),
      ...renderWalReceiver({ policy, owner, defaultImage: settings.defaultImage }).filter(
        // A claim's size and class cannot change in place: it is made once, and made anew
        // (with the spec of the day) only after continuous protection was disabled.
        (manifest) =>
          manifest.kind !== 'PersistentVolumeClaim' ||
          caches.persistentVolumeClaims.get(`${owner.namespace}/${manifest.metadata.name}`) ===
            undefined,
      ),
    ];
    const wanted = new Set(cronJobs.map((cronJob) => cronJob.manifest.metadata.name));
    let applied: string[];
    let deleted: string[];
    try {
      applied = await applyChanged(client, manifests, (kind) => cacheOfKind(caches, kind));
      deleted = await deleteUnwanted(client, caches.cronJobs, {
        namespace: owner.namespace,
        uid,
        wanted,
      });
    } catch (error) {
      // Said in status for people, then thrown so the queue retries with backoff.
      const message = error instanceof Error ? error.message : String(error);
      await this.#writeStatus(object, { kind: 'failed', message }, backups);
      throw error;
    }
    if (applied.length + deleted.length > 0) {
      this.#deps.log.info(
        { policy: `${owner.namespace}/${owner.name}`, applied, deleted },
        'applied policy',
      );
      await this.#event(object, {
        type: 'Normal',
        reason: 'CronJobsUpdated',
        note: [
          applied.length > 0 ? `applied ${applied.join(', ')}` : '',
          deleted.length > 0 ? `deleted ${deleted.join(', ')}` : '',
        ]
          .filter(Boolean)
          .join('; '),
      });
    }
    await reconcileOnDemandBackups({ client, jobs: caches.jobs, policy, settings }, backups);
    const forgotten = await deleteExcessSkippedRecords(client, backups);
    if (forgotten.length > 0) {
      this.#deps.log.info(
        { policy: `${owner.namespace}/${owner.name}`, deleted: forgotten },
        'deleted the oldest Skipped Backups',
      );
    }
    const plan = retentionPlanOf(policy.spec);
    const slots = renderSlotTable({
      plan,
      backups: backups.map((entry) => entry.backup),
      nowMs: this.#deps.now().getTime(),
    });
    const outcome: ReconcileOutcome = {
      kind: 'applied',
      cronJobs: cronJobs.map((cronJob) => cronJob.status),
      slots,
      suspended: policy.spec.suspend,
    };
    const slot = await this.#slots?.observe(object, policy);
    const wal = await this.#wal.reconcile(object, policy, backups);
    await this.#writeStatus(object, outcome, backups, { slot, continuous: wal.condition });
    recordBackupMetrics(
      this.#deps.metrics,
      owner,
      backups.map((entry) => entry.backup),
    );
    recordLineMetrics(this.#deps.metrics, owner, { plan, slots });
    // The slot is looked at again at the next resync, whose period is the check interval; a
    // receiver's report, when it would turn stale (a dead receiver writes nothing to wake us).
    return wal.requeueAfterMs === undefined ? {} : { requeueAfterMs: wal.requeueAfterMs };
  }

  /** Writes the status only when it differs from what the object already says. */
  async #writeStatus(
    object: KubeObject,
    outcome: ReconcileOutcome,
    backups: readonly BackupObject[],
    observed: { slot?: SlotObservation; continuous?: ContinuousConditionInput } = {},
  ): Promise<void> {
    const { slot, continuous } = observed;
    // status.continuous is the WAL receiver's (its own field manager): never sent from here,
    // and not a difference that calls for a write.
    const { continuous: _receivers, ...previous } =
      (object.status as BackupPolicyStatus | undefined) ?? {};
    const hadStatus = object.status !== undefined;
    // Without a new look (an invalid policy, a failed apply), the slot last seen stands.
    const replicationSlot = slot === undefined ? previous.replicationSlot : slot.status;
    const status = renderPolicyStatus({
      generation: object.metadata.generation ?? 0,
      previous: hadStatus ? previous : undefined,
      outcome,
      continuous,
      backups: backups.map((entry) => entry.backup),
      replicationSlot,
      now: this.#deps
        .now()
        .toISOString()
        .replace(/\.\d{3}Z$/, 'Z'),
    });
    if (hadStatus && jsonEqual(status, previous)) return;
    await applyStatus(this.#deps.client, {
      apiVersion: API_VERSION,
      kind: BACKUP_POLICY_KIND,
      metadata: { name: object.metadata.name, namespace: object.metadata.namespace ?? '' },
      status,
    });
    const wasReady = previous?.conditions?.find((condition) => condition.type === 'Ready');
    const ready = status.conditions?.find((condition) => condition.type === 'Ready');
    if (
      ready !== undefined &&
      (wasReady?.status !== ready.status || wasReady.reason !== ready.reason)
    ) {
      await this.#event(object, {
        type: ready.status === 'True' ? 'Normal' : 'Warning',
        reason: ready.reason,
        note: ready.message,
      });
    }
  }

  async #event(
    object: KubeObject,
    event: { type: 'Normal' | 'Warning'; reason: string; note: string },
  ): Promise<void> {
    await this.#deps.events.record(
      {
        subject: {
          apiVersion: API_VERSION,
          kind: BACKUP_POLICY_KIND,
          name: object.metadata.name,
          namespace: object.metadata.namespace ?? '',
          uid: object.metadata.uid ?? '',
        },
        action: 'Reconcile',
        ...event,
      },
      this.#deps.now(),
    );
  }
}
