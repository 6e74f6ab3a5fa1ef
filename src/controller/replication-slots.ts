/**
 * The primary's disk: a binary run holds a replication slot (WAL from its start on) while it
 * streams, and a run killed mid-stream leaves the slot behind, holding WAL without limit
 * (`max_slot_wal_keep_size` defaults to unlimited) until the policy's next binary run drops it.
 * A suspended or deleted policy has no next run, so the controller drops the slot then; for
 * every policy it shows the slot and the WAL it holds in status and metrics.
 *
 * The WAL receiver of continuous protection holds a permanent slot of its own: once the
 * receiver is stopped for good (suspended, disabled, deleted) and its pod is gone, the
 * controller drops that one too, so a policy that no longer archives WAL never fills the disk.
 *
 * Deletion waits for the drop through a finalizer, but never for ever: a primary that cannot
 * be reached releases the policy after {@link SLOT_RELEASE_AFTER_MS}, and a Secret that is gone
 * or a target with no server at once, with a Warning Event that says how to drop the slot by
 * hand.
 */
import type { Logger } from 'pino';
import type { BackupPolicy, ReplicationSlotStatus } from '../api/index.js';
import {
  isNotFound,
  type KubeClient,
  type KubeObject,
  type ObjectCache,
  RESOURCES,
  resourcePath,
} from '../kube/index.js';
import {
  NoServerError,
  type ReplicationSlotState,
  replicationSlotNameOf,
  walSlotNameOf,
} from '../postgres/index.js';
import { LABELS, policyLabels } from '../render/index.js';
import type { ControllerMetrics } from './controller-metrics.js';

/** The finalizer that keeps a deleted policy until its replication slot is dropped. */
export const SLOT_FINALIZER = 'pgbackup.dev/replication-slot';

/** How long a deleted policy waits for its slot to be dropped before it is released anyway. */
export const SLOT_RELEASE_AFTER_MS = 5 * 60_000;

/** How often a deleted policy whose primary cannot be reached is tried again. */
const DELETE_RETRY_MS = 15_000;

/** How often a deleted policy looks again whether its WAL receiver's pod is gone. */
export const RECEIVER_POLL_MS = 2_000;

/** Which of a policy's slots: the binary runs' (temporary) or the WAL receiver's (permanent). */
export type PolicySlotKind = 'binary' | 'wal';

/** Looks at and drops the replication slots of a policy on its primary. */
export interface PolicySlotAccess {
  /** The policy's slot of a kind on its primary, if there is one. */
  find(policy: BackupPolicy, kind: PolicySlotKind): Promise<ReplicationSlotState | undefined>;
  /** Drops the policy's slot of a kind if there is one; returns it as it was. */
  drop(policy: BackupPolicy, kind: PolicySlotKind): Promise<ReplicationSlotState | undefined>;
}

/**
 * Stops a policy's WAL receiver (deletes its Deployment) and says whether none of its pods is
 * left, so that its slot, which a live receiver streams from, can be dropped.
 */
export type StopWalReceiver = (object: KubeObject) => Promise<boolean>;

/** An Event about a policy, recorded by the reconciler. */
export type PolicyEvent = (
  object: KubeObject,
  event: { type: 'Normal' | 'Warning'; reason: string; note: string },
) => Promise<void>;

/** What the slot watch needs. */
export interface SlotWatchDeps {
  readonly client: KubeClient;
  readonly access: PolicySlotAccess;
  readonly jobs: ObjectCache;
  /** Stops the policy's WAL receiver before its slot is dropped; absent: no receivers. */
  readonly stopWalReceiver?: StopWalReceiver | undefined;
  readonly metrics: ControllerMetrics;
  readonly event: PolicyEvent;
  readonly log: Logger;
  readonly now: () => Date;
  /** A policy's slot is looked at no more often than this (and again when its spec changes). */
  readonly checkIntervalMs: number;
}

/** What a live policy's reconcile gets back: its slot for the status. */
export interface SlotObservation {
  readonly status: ReplicationSlotStatus | undefined;
}

interface Observed {
  readonly atMs: number;
  readonly generation: number;
  readonly status: ReplicationSlotStatus | undefined;
}

interface JobCondition {
  readonly type?: string;
  readonly status?: string;
}

/** Whether a Job has not finished (no Complete or Failed condition): its run may be live. */
function isUnfinished(job: KubeObject): boolean {
  const conditions = (job.status as { conditions?: JobCondition[] } | undefined)?.conditions;
  return !(conditions ?? []).some(
    (condition) =>
      (condition.type === 'Complete' || condition.type === 'Failed') && condition.status === 'True',
  );
}

/**
 * Whether a binary run of the policy may be live: one of its binary Jobs (a line's, or an
 * on-demand one) has not finished. Such a run holds the slot and drops it itself.
 */
export function hasLiveBinaryRun(jobs: ObjectCache, namespace: string, policy: string): boolean {
  const policyLabel = policyLabels(policy)[LABELS.policy];
  return jobs
    .list()
    .some(
      (job) =>
        job.metadata.namespace === namespace &&
        job.metadata.labels?.[LABELS.policy] === policyLabel &&
        job.metadata.labels?.[LABELS.type] === 'binary' &&
        isUnfinished(job),
    );
}

function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Drops a suspended or deleted policy's leftover slot and reports every policy's slot. */
export class ReplicationSlotWatch {
  readonly #deps: SlotWatchDeps;
  readonly #observed = new Map<string, Observed>();

  constructor(deps: SlotWatchDeps) {
    this.#deps = deps;
  }

  #labels(namespace: string, policy: string) {
    return { namespace, policy, slot: replicationSlotNameOf(namespace, policy) };
  }

  /** Removes what the watch knows and exports of a policy that is gone. */
  forget(namespace: string, policy: string): void {
    this.#observed.delete(`${namespace}/${policy}`);
    const labels = this.#labels(namespace, policy);
    this.#deps.metrics.slotRetainedBytes.remove(labels);
    this.#deps.metrics.slotLeftover.remove(labels);
  }

  #export(namespace: string, policy: string, status: ReplicationSlotStatus | undefined): void {
    if (status === undefined) {
      this.forget(namespace, policy);
      return;
    }
    const labels = this.#labels(namespace, policy);
    this.#deps.metrics.slotRetainedBytes.set(labels, status.retainedBytes);
    this.#deps.metrics.slotLeftover.set(labels, status.leftover ? 1 : 0);
  }

  /** Adds the finalizer, so that deleting the policy waits for its slot to be dropped. */
  async #ensureFinalizer(object: KubeObject): Promise<void> {
    const finalizers = (object.metadata as { finalizers?: string[] }).finalizers ?? [];
    if (finalizers.includes(SLOT_FINALIZER)) return;
    await this.#patchFinalizers(object, [...finalizers, SLOT_FINALIZER]);
  }

  async #patchFinalizers(object: KubeObject, finalizers: string[]): Promise<void> {
    const namespace = object.metadata.namespace ?? '';
    const { name } = object.metadata;
    await this.#deps.client.request({
      verb: 'patch',
      path: resourcePath(RESOURCES.backupPolicy, { namespace, name }),
      // The resourceVersion makes this fail (and be retried) if another writer changed the
      // list meanwhile, rather than overwrite it.
      body: { metadata: { resourceVersion: object.metadata.resourceVersion, finalizers } },
      contentType: 'application/merge-patch+json',
      what: `set the finalizers of BackupPolicy ${namespace}/${name}`,
    });
  }

  /**
   * A live policy: keeps the finalizer on, drops the slot of a suspended policy that no run
   * holds, and looks at the slot at most once per interval.
   */
  async observe(object: KubeObject, policy: BackupPolicy): Promise<SlotObservation> {
    const { checkIntervalMs } = this.#deps;
    const namespace = object.metadata.namespace ?? '';
    const name = object.metadata.name;
    // A receiver's slot is permanent: deleting the policy must drop it too.
    if (policy.spec.continuous.enabled) await this.#ensureFinalizer(object);
    if (!policy.spec.binary.enabled) {
      this.forget(namespace, name);
      return { status: undefined };
    }
    await this.#ensureFinalizer(object);
    const nowMs = this.#deps.now().getTime();
    const generation = object.metadata.generation ?? 0;
    const last = this.#observed.get(`${namespace}/${name}`);
    const sinceMs = last === undefined ? Number.POSITIVE_INFINITY : nowMs - last.atMs;
    // A tenth of slack: the resync that comes once per interval may come a little early.
    if (last !== undefined && last.generation === generation && sinceMs < checkIntervalMs * 0.9) {
      return { status: last.status };
    }
    const status = await this.#look(object, policy, last?.status);
    this.#observed.set(`${namespace}/${name}`, { atMs: nowMs, generation, status });
    this.#export(namespace, name, status);
    return { status };
  }

  async #look(
    object: KubeObject,
    policy: BackupPolicy,
    previous: ReplicationSlotStatus | undefined,
  ): Promise<ReplicationSlotStatus | undefined> {
    const namespace = object.metadata.namespace ?? '';
    const name = object.metadata.name;
    const live = hasLiveBinaryRun(this.#deps.jobs, namespace, name);
    try {
      const slot = await this.#deps.access.find(policy, 'binary');
      if (slot === undefined) return undefined;
      if (policy.spec.suspend && !live) {
        await this.#deps.access.drop(policy, 'binary');
        await this.#dropped(object, slot, 'is suspended');
        return undefined;
      }
      return { name: slot.name, retainedBytes: slot.retainedBytes, leftover: !live };
    } catch (error) {
      // The primary may be down or failing over: what was last seen stands until it answers.
      this.#deps.log.warn(
        { err: error, policy: `${namespace}/${name}` },
        'could not look at the replication slot on the primary',
      );
      return previous;
    }
  }

  async #dropped(object: KubeObject, slot: ReplicationSlotState, why: string): Promise<void> {
    const note = `Dropped the replication slot ${slot.name} a killed run left on the primary (it held ${slot.retainedBytes} bytes of WAL): the policy ${why}, so no run would have dropped it.`;
    this.#deps.log.info(
      { policy: `${object.metadata.namespace}/${object.metadata.name}`, slot: slot.name },
      note,
    );
    await this.#deps.event(object, { type: 'Normal', reason: 'ReplicationSlotDropped', note });
  }

  /**
   * Drops the WAL receiver's slot of a policy whose receiver is stopped (suspended, continuous
   * protection disabled); returns the slot as it was. Errors are the caller's: it tries again.
   */
  async dropWalSlot(object: KubeObject, policy: BackupPolicy, why: string): Promise<boolean> {
    const slot = await this.#deps.access.drop(policy, 'wal');
    if (slot !== undefined) await this.#droppedWal(object, slot, why);
    return slot !== undefined;
  }

  async #droppedWal(object: KubeObject, slot: ReplicationSlotState, why: string): Promise<void> {
    const note = `Dropped the WAL receiver's replication slot ${slot.name} (it held ${slot.retainedBytes} bytes of WAL on the primary): ${why}, and its receiver is stopped.`;
    this.#deps.log.info(
      { policy: `${object.metadata.namespace}/${object.metadata.name}`, slot: slot.name },
      note,
    );
    await this.#deps.event(object, { type: 'Normal', reason: 'WalSlotDropped', note });
  }

  /**
   * A policy being deleted: stops its WAL receiver, waits until its pod is gone, drops its slots,
   * then removes the finalizer. A primary that cannot be reached, or a receiver pod that does
   * not go, is waited for until {@link SLOT_RELEASE_AFTER_MS} after the deletion, then the policy
   * is released with a Warning Event; a Secret that is gone, or a target with no server,
   * releases it at once.
   */
  async finalize(
    object: KubeObject,
    policy: BackupPolicy | undefined,
  ): Promise<{ requeueAfterMs?: number }> {
    const finalizers = (object.metadata as { finalizers?: string[] }).finalizers ?? [];
    if (!finalizers.includes(SLOT_FINALIZER)) return {};
    const namespace = object.metadata.namespace ?? '';
    const name = object.metadata.name;
    const slotName = replicationSlotNameOf(namespace, name);
    const walSlotName = walSlotNameOf(namespace, name);
    const release = async (why: string) => {
      const wal =
        policy === undefined || policy.spec.continuous.enabled
          ? ` (and SELECT pg_drop_replication_slot('${walSlotName}'), the WAL receiver's slot)`
          : '';
      await this.#deps.event(object, {
        type: 'Warning',
        reason: 'ReplicationSlotNotDropped',
        note: `Released the policy without dropping its replication slot ${slotName}: ${why}. If the slot is on the primary it keeps WAL there: run SELECT pg_drop_replication_slot('${slotName}')${wal} on the primary.`,
      });
      await this.#removeFinalizer(object, finalizers);
    };
    if (policy === undefined) {
      await release('the policy is not valid, so its primary is not known');
      return {};
    }
    const deletedAtMs = Date.parse(object.metadata.deletionTimestamp ?? '');
    const waitedMs = this.#deps.now().getTime() - deletedAtMs;
    // The garbage collector removes the receiver only once the policy is gone, and a live
    // receiver streams from its slot: it is stopped here, and its slot dropped after its pod.
    const receiverGone = (await this.#deps.stopWalReceiver?.(object)) ?? true;
    if (!receiverGone) {
      if (!(waitedMs < SLOT_RELEASE_AFTER_MS)) {
        await release(
          `the WAL receiver's pod was still there ${SLOT_RELEASE_AFTER_MS / 60_000} minutes after the deletion`,
        );
        return {};
      }
      return { requeueAfterMs: Math.min(RECEIVER_POLL_MS, SLOT_RELEASE_AFTER_MS - waitedMs) };
    }
    try {
      await this.#dropBoth(object, policy);
    } catch (error) {
      // A Secret that is gone, or no server left to ask (the database deleted with the policy,
      // a namespace being deleted): waiting would change nothing.
      if (isNotFound(error) || error instanceof NoServerError) {
        await release(describeError(error));
        return {};
      }
      if (!(waitedMs < SLOT_RELEASE_AFTER_MS)) {
        await release(
          `the primary could not be reached for ${SLOT_RELEASE_AFTER_MS / 60_000} minutes (${describeError(error)})`,
        );
        return {};
      }
      this.#deps.log.warn(
        { err: error, policy: `${namespace}/${name}` },
        'could not drop the replication slot of a deleted policy; trying again',
      );
      return { requeueAfterMs: Math.min(DELETE_RETRY_MS, SLOT_RELEASE_AFTER_MS - waitedMs) };
    }
    await this.#removeFinalizer(object, finalizers);
    this.forget(namespace, name);
    return {};
  }

  async #dropBoth(object: KubeObject, policy: BackupPolicy): Promise<void> {
    const slot = await this.#deps.access.drop(policy, 'binary');
    if (slot !== undefined) await this.#dropped(object, slot, 'is being deleted');
    const walSlot = await this.#deps.access.drop(policy, 'wal');
    if (walSlot !== undefined)
      await this.#droppedWal(object, walSlot, 'the policy is being deleted');
  }

  async #removeFinalizer(object: KubeObject, finalizers: readonly string[]): Promise<void> {
    try {
      await this.#patchFinalizers(
        object,
        finalizers.filter((finalizer) => finalizer !== SLOT_FINALIZER),
      );
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
  }
}
