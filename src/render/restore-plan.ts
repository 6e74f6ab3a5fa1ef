/**
 * What the controller does with a new `Restore`, decided from what exists: refuse it (with a
 * message naming the field or object and the fix; nothing is touched), create its claim and
 * then start its Job, or start its Job on the existing claim. Pure: the caller reads the
 * policy, the claim and the pods, and acts on the answer.
 */
import {
  BACKUP_POLICY_KIND,
  type BackupPolicy,
  formatIssues,
  parseBackupPolicy,
  parseRestore,
  RESTORE_KIND,
  type Restore,
} from '../api/index.js';

/** A pod, as far as the in-use check reads it. */
export interface PodUse {
  readonly metadata: { readonly name: string; readonly labels?: Readonly<Record<string, string>> };
  readonly spec?: {
    readonly volumes?: readonly {
      readonly persistentVolumeClaim?: { readonly claimName?: string };
    }[];
  };
  readonly status?: { readonly phase?: string };
}

/** What exists that a Restore depends on. */
export interface RestorePlanInput {
  /** The Restore as read from the API server. */
  readonly restoreObject: unknown;
  readonly restoreName: string;
  readonly namespace: string;
  /** The policy as read from the API server; undefined when it does not exist. */
  readonly policyObject: unknown;
  /** Whether the claim exists. */
  readonly claimExists: boolean;
  /** The pods of the namespace (only those that mount the claim matter). */
  readonly pods: readonly PodUse[];
  /** The label that names a Restore on its own Job's pods, which do not count as users. */
  readonly restoreLabel: string;
  /**
   * The keys of the policy's identity Secret (spec.storage.encryption.identity), which the
   * Job mounts: `undefined` when it does not exist (or the policy names none). Only the
   * names: the caller never hands over what the Secret holds.
   */
  readonly identitySecretKeys?: readonly string[] | undefined;
}

/** The decision. */
export type RestorePlan =
  | { readonly kind: 'refuse'; readonly message: string }
  | {
      readonly kind: 'run';
      readonly restore: Restore;
      readonly policy: BackupPolicy;
      readonly createClaim: boolean;
    };

const NOTHING = 'nothing was restored and nothing was changed';

const refuse = (message: string): RestorePlan => ({ kind: 'refuse', message });

function stripStatus(object: unknown): unknown {
  const { status: _status, ...rest } = object as Record<string, unknown>;
  return rest;
}

/** The pods, other than the Restore's own, that mount the claim and have not ended. */
export function podsUsingClaim(input: RestorePlanInput, claimName: string): string[] {
  return input.pods
    .filter((pod) => pod.status?.phase !== 'Succeeded' && pod.status?.phase !== 'Failed')
    .filter((pod) => pod.metadata.labels?.[input.restoreLabel] !== input.restoreName)
    .filter((pod) =>
      (pod.spec?.volumes ?? []).some(
        (volume) => volume.persistentVolumeClaim?.claimName === claimName,
      ),
    )
    .map((pod) => pod.metadata.name)
    .sort();
}

/** Decides what to do with a Restore that has no Job yet. */
export function planRestore(input: RestorePlanInput): RestorePlan {
  const parsed = parseRestore(stripStatus(input.restoreObject));
  if (!parsed.ok) {
    return refuse(
      `${formatIssues(RESTORE_KIND, input.restoreName, parsed.issues)}\n${NOTHING}; create a new Restore`,
    );
  }
  const restore = parsed.value;
  const { policy: policyName, pvc } = restore.spec;
  const policyKey = `${input.namespace}/${policyName}`;
  if (input.policyObject === undefined) {
    return refuse(
      `spec.policy: BackupPolicy ${policyKey} does not exist; ${NOTHING}. Check the name with "kubectl get backuppolicies -n ${input.namespace}", then create a new Restore`,
    );
  }
  const policy = parseBackupPolicy(stripStatus(input.policyObject));
  if (!policy.ok) {
    return refuse(
      `spec.policy: BackupPolicy ${policyKey} is not valid; ${NOTHING}. Fix it, then create a new Restore:\n${formatIssues(BACKUP_POLICY_KIND, policyName, policy.issues)}`,
    );
  }
  if (policy.value.spec.storage?.s3 === undefined) {
    return refuse(
      `spec.policy: BackupPolicy ${policyKey} has no spec.storage.s3, and a Restore reads its backups from the bucket; ${NOTHING}. Restore a local copy with "pgbackup restore --local-dir" instead`,
    );
  }
  const encryption = policy.value.spec.storage.encryption;
  if (encryption !== undefined && encryption.identity === undefined) {
    return refuse(
      `spec.policy: BackupPolicy ${policyKey} encrypts its backups (spec.storage.encryption) and names no identity to read them with; ${NOTHING}. Put the age identity in a Secret of its own (kubectl create secret generic ${policyName}-age-identity --from-file=key.txt=KEY.txt), name it in spec.storage.encryption.identity.secretKeyRef, then create a new Restore`,
    );
  }
  if (!input.claimExists) {
    if (pvc.size === undefined) {
      return refuse(
        `spec.pvc.name: PersistentVolumeClaim ${input.namespace}/${pvc.name} does not exist; ${NOTHING}. Create it (empty), or give spec.pvc.size to have the Restore create it`,
      );
    }
    return (
      identityRefusal(input, policy.value) ?? {
        kind: 'run',
        restore,
        policy: policy.value,
        createClaim: true,
      }
    );
  }
  const users = podsUsingClaim(input, pvc.name);
  if (users.length > 0) {
    return refuse(
      `spec.pvc.name: PersistentVolumeClaim ${input.namespace}/${pvc.name} is in use by pod ${users.join(', ')}; ${NOTHING}. A restore needs the claim to itself: stop what uses it (or choose another claim), then create a new Restore`,
    );
  }
  return (
    identityRefusal(input, policy.value) ?? {
      kind: 'run',
      restore,
      policy: policy.value,
      createClaim: false,
    }
  );
}

/**
 * The Job mounts the identity Secret's key: a missing Secret or key would leave its pod
 * waiting for the volume until the run's deadline, so the Restore is refused at once.
 */
function identityRefusal(input: RestorePlanInput, policy: BackupPolicy): RestorePlan | undefined {
  const ref = policy.spec.storage?.encryption?.identity?.secretKeyRef;
  if (ref === undefined) return undefined;
  const field = 'spec.storage.encryption.identity.secretKeyRef';
  const where = `of BackupPolicy ${input.namespace}/${policy.metadata.name ?? ''}`;
  if (input.identitySecretKeys === undefined) {
    return refuse(
      `${field} ${where}: Secret ${input.namespace}/${ref.name} does not exist; ${NOTHING}. Create it with the age identity (kubectl create secret generic ${ref.name} --from-file=${ref.key}=KEY.txt), then create a new Restore`,
    );
  }
  if (!input.identitySecretKeys.includes(ref.key)) {
    return refuse(
      `${field} ${where}: Secret ${input.namespace}/${ref.name} has no key "${ref.key}"; ${NOTHING}. Put the age identity under that key, or name the key it is under, then create a new Restore`,
    );
  }
  return undefined;
}
