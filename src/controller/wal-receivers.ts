/**
 * The controller's side of continuous protection, per policy: a receiver that should not run
 * (suspended, disabled) is stopped, and once its pod is gone its permanent slot is dropped and
 * status.continuous cleared (and, when continuous protection is disabled, its spool deleted);
 * a receiver that runs is judged (the `Continuous` condition's inputs, the metrics), and a gap
 * it reports gets one on-demand binary Backup.
 *
 * The Deployment and claim themselves are applied with the policy's other objects
 * (policy-reconciler.ts); what the receiver reports, it writes itself.
 */
import type { Logger } from 'pino';
import {
  BACKUP_POLICY_KIND,
  type BackupPolicy,
  type BackupPolicyStatus,
  isEndPhase,
} from '../api/index.js';
import {
  controllerUidOf,
  deleteObject,
  isConflict,
  type KubeClient,
  type KubeObject,
  type ObjectCache,
  RESOURCES,
  resourcePath,
} from '../kube/index.js';
import {
  type ContinuousConditionInput,
  gapBackupNameOf,
  isReceiverUp,
  msUntilHeartbeatStale,
  renderGapBackup,
  walReceiverLabels,
  walReceiverNameOf,
  walSpoolClaimNameOf,
  wantsWalReceiver,
} from '../render/index.js';
import type { BackupObject } from './backup-index.js';
import {
  type ControllerMetrics,
  forgetWalMetrics,
  recordWalMetrics,
} from './controller-metrics.js';
import { hasLiveBinaryRun, type PolicyEvent, RECEIVER_POLL_MS } from './replication-slots.js';

/** What the receivers' care needs. */
export interface WalReceiverDeps {
  readonly client: KubeClient;
  readonly deployments: ObjectCache;
  readonly claims: ObjectCache;
  readonly jobs: ObjectCache;
  readonly metrics: ControllerMetrics;
  readonly event: PolicyEvent;
  readonly log: Logger;
  readonly now: () => Date;
  /** Drops the receiver's slot; absent (no access to primaries), slots are left alone. */
  readonly dropWalSlot?:
    | ((object: KubeObject, policy: BackupPolicy, why: string) => Promise<boolean>)
    | undefined;
}

/** What a live policy's reconcile gets back. */
export interface WalReceiverOutcome {
  /** The `Continuous` condition's inputs. */
  readonly condition: ContinuousConditionInput;
  /** When to look again, if before the next change or resync. */
  readonly requeueAfterMs?: number | undefined;
}

interface DeploymentCondition {
  readonly type?: string;
  readonly status?: string;
}

/** Whether a Deployment says it is available; undefined when there is none. */
function isAvailable(deployment: KubeObject | undefined): boolean | undefined {
  if (deployment === undefined) return undefined;
  const conditions = (deployment.status as { conditions?: DeploymentCondition[] } | undefined)
    ?.conditions;
  return (conditions ?? []).some(
    (condition) => condition.type === 'Available' && condition.status === 'True',
  );
}

function labelSelectorOf(labels: Record<string, string>): string {
  return Object.entries(labels)
    .map(([key, value]) => `${key}=${value}`)
    .join(',');
}

/** Deletes an object as the cache saw it (list items carry no kind); its uid keeps a newer one of that name safe. */
async function deleteCached(
  client: KubeClient,
  type: { apiVersion: string; kind: string },
  object: KubeObject,
): Promise<void> {
  await deleteObject(client, {
    ...type,
    metadata: {
      name: object.metadata.name,
      namespace: object.metadata.namespace ?? '',
      ...(object.metadata.uid !== undefined ? { uid: object.metadata.uid } : {}),
    },
  });
}

/** Keeps each policy's WAL receiver running, stopped, or judged, as its spec says. */
export class WalReceivers {
  readonly #deps: WalReceiverDeps;
  /** Policies whose stopped receiver's slot is known dropped, by key, at this generation. */
  readonly #settled = new Map<string, number>();

  constructor(deps: WalReceiverDeps) {
    this.#deps = deps;
  }

  /** Forgets a policy that is gone. */
  forget(namespace: string, name: string): void {
    this.#settled.delete(`${namespace}/${name}`);
    forgetWalMetrics(this.#deps.metrics, { namespace, name });
  }

  #deploymentOf(object: KubeObject): KubeObject | undefined {
    const namespace = object.metadata.namespace ?? '';
    const deployment = this.#deps.deployments.get(
      `${namespace}/${walReceiverNameOf(object.metadata.name)}`,
    );
    // Only the policy's own: an object of that name someone else made is not ours to judge.
    return deployment !== undefined &&
      controllerUidOf(deployment, BACKUP_POLICY_KIND) === object.metadata.uid
      ? deployment
      : undefined;
  }

  /** How many pods of the policy's receiver exist (running or terminating). */
  async #receiverPodCount(object: KubeObject): Promise<number> {
    const namespace = object.metadata.namespace ?? '';
    const list = await this.#deps.client.request<{ items: KubeObject[] }>({
      verb: 'list',
      path: resourcePath(RESOURCES.pod, { namespace }),
      query: { labelSelector: labelSelectorOf(walReceiverLabels(object.metadata.name)) },
      what: `list the WAL receiver pods of BackupPolicy ${namespace}/${object.metadata.name}`,
    });
    return list.items.length;
  }

  /**
   * Deletes the policy's receiver Deployment if it has one, and says whether none of its pods
   * is left (a stopping receiver uploads its spool first, for up to its grace period).
   */
  async stop(object: KubeObject): Promise<boolean> {
    const deployment = this.#deploymentOf(object);
    if (deployment !== undefined && deployment.metadata.deletionTimestamp === undefined) {
      await deleteCached(
        this.#deps.client,
        { apiVersion: 'apps/v1', kind: 'Deployment' },
        deployment,
      );
      // Its pods are the ReplicaSet's, deleted in the background: look at them next time.
      return false;
    }
    return (await this.#receiverPodCount(object)) === 0;
  }

  /**
   * A valid, live policy. Its receiver's objects are already applied when it wants one; here
   * the rest: judge it and close a gap, or stop it and settle its slot.
   */
  async reconcile(
    object: KubeObject,
    policy: BackupPolicy,
    backups: readonly BackupObject[],
  ): Promise<WalReceiverOutcome> {
    const namespace = object.metadata.namespace ?? '';
    const name = object.metadata.name;
    const status = (object.status as BackupPolicyStatus | undefined)?.continuous;
    const deployment = this.#deploymentOf(object);
    const condition: ContinuousConditionInput = {
      enabled: policy.spec.continuous.enabled,
      suspended: policy.spec.suspend,
      status,
      deployment: { name: walReceiverNameOf(name), available: isAvailable(deployment) },
      nowMs: this.#deps.now().getTime(),
    };
    if (wantsWalReceiver(policy)) {
      this.#settled.delete(`${namespace}/${name}`);
      recordWalMetrics(
        this.#deps.metrics,
        { namespace, name },
        {
          uploadInterval: policy.spec.continuous.uploadInterval,
          status,
          receiverUp: isReceiverUp(condition),
        },
      );
      await this.#closeGap(object, backups);
      return { condition, requeueAfterMs: msUntilHeartbeatStale(condition) };
    }
    const requeueAfterMs = await this.#settle(object, policy);
    forgetWalMetrics(this.#deps.metrics, { namespace, name });
    // A slot not yet dropped (its primary unreachable) may still hold WAL: what it last held
    // stays exported, so PgBackupSlotRetainingWal can say so.
    const slot = status?.slot;
    const settled = this.#settled.get(`${namespace}/${name}`) === (object.metadata.generation ?? 0);
    if (!settled && slot?.retainedBytes !== undefined) {
      const labels = { namespace, policy: name, slot: slot.name };
      this.#deps.metrics.wal.slotRetainedBytes.set(labels, slot.retainedBytes);
      this.#deps.metrics.wal.slotByPolicy.set(`${namespace}/${name}`, slot.name);
    }
    return { condition, requeueAfterMs };
  }

  /**
   * A receiver that should not run: stops it; once its pod is gone drops its slot (once per
   * generation); with continuous protection disabled, then deletes its spool claim and clears
   * what it last reported. Returns when to look again, while waiting.
   */
  async #settle(object: KubeObject, policy: BackupPolicy): Promise<number | undefined> {
    const key = `${object.metadata.namespace ?? ''}/${object.metadata.name}`;
    const generation = object.metadata.generation ?? 0;
    const { enabled } = policy.spec.continuous;
    if (this.#settled.get(key) === generation) {
      await this.#removeLeftovers(object, enabled);
      return undefined;
    }
    // A policy that never had a receiver has nothing to stop: no Deployment, claim or report.
    const mayHaveReceiver =
      enabled ||
      this.#deploymentOf(object) !== undefined ||
      this.#claimOf(object) !== undefined ||
      (object.status as BackupPolicyStatus | undefined)?.continuous !== undefined;
    if (mayHaveReceiver) {
      if (!(await this.stop(object))) return RECEIVER_POLL_MS;
      const why = policy.spec.suspend
        ? 'the policy is suspended'
        : 'continuous protection is disabled (spec.continuous.enabled)';
      try {
        await this.#deps.dropWalSlot?.(object, policy, why);
      } catch (error) {
        // The primary may be down or failing over: tried again at the next reconcile.
        this.#deps.log.warn(
          { err: error, policy: key },
          "could not drop the stopped WAL receiver's replication slot; trying again",
        );
        return undefined;
      }
      await this.#removeLeftovers(object, enabled);
    }
    this.#settled.set(key, generation);
    return undefined;
  }

  #claimOf(object: KubeObject): KubeObject | undefined {
    const namespace = object.metadata.namespace ?? '';
    const claim = this.#deps.claims.get(
      `${namespace}/${walSpoolClaimNameOf(object.metadata.name)}`,
    );
    return claim !== undefined && controllerUidOf(claim, BACKUP_POLICY_KIND) === object.metadata.uid
      ? claim
      : undefined;
  }

  /**
   * The receiver gone and its slot dropped: clears status.continuous, which no receiver updates
   * now; with continuous protection disabled also deletes the spool claim (the receiver uploaded
   * what it held when it stopped). A suspended policy keeps its claim for its return.
   */
  async #removeLeftovers(object: KubeObject, enabled: boolean): Promise<void> {
    const claim = enabled ? undefined : this.#claimOf(object);
    if (claim !== undefined && claim.metadata.deletionTimestamp === undefined) {
      await deleteCached(
        this.#deps.client,
        { apiVersion: 'v1', kind: 'PersistentVolumeClaim' },
        claim,
      );
    }
    if ((object.status as BackupPolicyStatus | undefined)?.continuous !== undefined) {
      await this.#clearReport(object);
    }
  }

  /** Removes status.continuous, which its receiver (stopped for good) can no longer update. */
  async #clearReport(object: KubeObject): Promise<void> {
    const namespace = object.metadata.namespace ?? '';
    const { name } = object.metadata;
    await this.#deps.client.request({
      verb: 'patch',
      path: resourcePath(RESOURCES.backupPolicy, { namespace, name, subresource: 'status' }),
      body: { status: { continuous: null } },
      contentType: 'application/merge-patch+json',
      what: `clear status.continuous of BackupPolicy ${namespace}/${name}`,
    });
  }

  /**
   * A gap the receiver reports gets one on-demand binary Backup, named after the gap, unless a
   * binary backup of the policy is under way (one that starts after the gap closes it too).
   */
  async #closeGap(object: KubeObject, backups: readonly BackupObject[]): Promise<void> {
    const gap = (object.status as BackupPolicyStatus | undefined)?.continuous?.gap;
    if (gap === undefined) return;
    const namespace = object.metadata.namespace ?? '';
    const policyName = object.metadata.name;
    const backupName = gapBackupNameOf(policyName, gap);
    if (backups.some((entry) => entry.object.metadata.name === backupName)) return;
    const underWay = backups.some(
      ({ backup, object: entry }) =>
        backup.spec.type === 'binary' &&
        entry.metadata.deletionTimestamp === undefined &&
        !isEndPhase(backup.status?.phase),
    );
    if (underWay || hasLiveBinaryRun(this.#deps.jobs, namespace, policyName)) return;
    try {
      await this.#deps.client.request({
        verb: 'create',
        path: resourcePath(RESOURCES.backup, { namespace }),
        body: renderGapBackup({ name: policyName, namespace }, gap),
        what: `create Backup ${namespace}/${backupName} for a gap in the WAL`,
      });
    } catch (error) {
      // Made already (the cache had not seen it yet): one Backup per gap, never two.
      if (isConflict(error)) return;
      throw error;
    }
    await this.#deps.event(object, {
      type: 'Warning',
      reason: 'WalGapBackup',
      note: `WAL from LSN ${gap.fromLsn} to ${gap.toLsn} on timeline ${gap.timeline} is missing from the bucket, so no instant from there on can be restored until a binary backup that starts after it is committed: created the on-demand binary Backup ${backupName}.`,
    });
  }
}
