/**
 * The identity the runner's pods use: a ServiceAccount, and a Role granting only what the
 * runner does (read its policy, the Secrets it names and the ConfigMaps of its recipients,
 * but never the Secret of the age identity; find the PostgreSQL pods, its own pod and Job,
 * record its Backups, queue on its Lease; the WAL receiver also reports its policy's
 * status.continuous), bound in the policy's namespace.
 */
import { type BackupPolicy, GROUP, runnerConfigMapNamesOf } from '../api/index.js';
import { LABELS, policyLabels } from './labels.js';
import { type Manifest, type Owner, ownerReferenceOf } from './manifest.js';
import { boundedName } from './object-name.js';
import { secretNamesOf } from './runner-pod.js';

/** Longest name of a ServiceAccount, Role or RoleBinding (a DNS subdomain). */
const RBAC_NAME_MAX = 253;

/** The runner's ServiceAccount, Role and RoleBinding share this name. */
export function runnerServiceAccountNameOf(policyName: string): string {
  return boundedName(`${policyName}-runner`, RBAC_NAME_MAX);
}

/** The Secret holding the age identity, which only restores and drills mount. */
function identitySecretOf(policy: BackupPolicy): string | undefined {
  return policy.spec.storage?.encryption?.identity?.secretKeyRef.name;
}

function configMapRules(policy: BackupPolicy): Record<string, unknown>[] {
  const names = runnerConfigMapNamesOf(policy.spec);
  // An empty resourceNames would grant every ConfigMap of the namespace.
  if (names.length === 0) return [];
  return [{ apiGroups: [''], resources: ['configmaps'], resourceNames: names, verbs: ['get'] }];
}

/** The rules of the runner's Role. */
export function runnerRoleRulesOf(policy: BackupPolicy): Record<string, unknown>[] {
  const policyName = policy.metadata.name ?? '';
  return [
    {
      apiGroups: [GROUP],
      resources: ['backuppolicies'],
      resourceNames: [policyName],
      verbs: ['get'],
    },
    // The WAL receiver (continuous protection) reports itself in status.continuous, with
    // server-side apply under a field manager of its own.
    ...(policy.spec.continuous.enabled
      ? [
          {
            apiGroups: [GROUP],
            resources: ['backuppolicies/status'],
            resourceNames: [policyName],
            verbs: ['get', 'patch'],
          },
        ]
      : []),
    // Secrets by name only: the runner cannot read any other Secret in the namespace, and
    // never the age identity's (the policy's rules refuse one it shares with these; it is
    // left out here too, so no Role can grant it whatever the policy says).
    {
      apiGroups: [''],
      resources: ['secrets'],
      resourceNames: secretNamesOf(policy).filter((name) => name !== identitySecretOf(policy)),
      verbs: ['get'],
    },
    // The ConfigMaps holding recipients (public keys), by name only, when there are any.
    ...configMapRules(policy),
    // Discovery lists pods by the policy's selector; label selectors cannot be bound in RBAC.
    // A run reads its own pod (named by its hostname) to find its Job.
    { apiGroups: [''], resources: ['pods'], verbs: ['get', 'list'] },
    // ...and its Job, whose scheduled or creation time is the run's trigger time. Job names
    // are chosen by the CronJob controller, so they cannot be listed in resourceNames.
    { apiGroups: ['batch'], resources: ['jobs'], verbs: ['get'] },
    // Backup names are chosen per run, so they cannot be listed in resourceNames.
    {
      apiGroups: [GROUP],
      resources: ['backups'],
      verbs: ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'],
    },
    { apiGroups: [GROUP], resources: ['backups/status'], verbs: ['get', 'update', 'patch'] },
    // The Job of a Restore records its outcome in the Restore's status (its name is chosen per
    // Restore); it reads nothing else of it.
    { apiGroups: [GROUP], resources: ['restores/status'], verbs: ['patch'] },
    // The Lease runs of one policy queue on, and the tickets of waiting runs (found by
    // label, deleted when their run gets its turn or died); their names belong to the runner.
    {
      apiGroups: ['coordination.k8s.io'],
      resources: ['leases'],
      verbs: ['get', 'list', 'create', 'update', 'patch', 'delete'],
    },
  ];
}

/** The ServiceAccount, Role and RoleBinding of a policy's runner. */
export function renderRunnerRbac(policy: BackupPolicy, owner: Owner): Manifest[] {
  const name = runnerServiceAccountNameOf(owner.name);
  const metadata = {
    name,
    namespace: owner.namespace,
    labels: { ...policyLabels(owner.name), [LABELS.component]: 'runner' },
    ownerReferences: [ownerReferenceOf(owner)],
  };
  return [
    // The token is mounted by the pod spec's default; the runner needs it to reach the API.
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata,
      rules: runnerRoleRulesOf(policy),
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata,
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name },
      subjects: [{ kind: 'ServiceAccount', name, namespace: owner.namespace }],
    },
  ];
}
