/**
 * Whether a policy can be turned into CronJobs: the schema (zod, as the API server checks
 * it, plus a real time zone) and the Secrets it names. Each check returns a problem naming
 * the field, or nothing.
 */
import {
  BACKUP_POLICY_KIND,
  type BackupPolicy,
  formatIssues,
  parseBackupPolicy,
  type ValidationIssue,
} from '../api/index.js';

/** Why a policy cannot be reconciled, as a condition reason and a message for a person. */
export interface PolicyProblem {
  /** PascalCase: `InvalidSpec`, `UnknownTimeZone` or `SecretNotFound`. */
  readonly reason: string;
  readonly message: string;
}

/** A validated policy, or the problem that stops it. */
export type PolicyValidity =
  | { readonly ok: true; readonly policy: BackupPolicy; readonly problem?: never }
  | { readonly ok: false; readonly problem: PolicyProblem; readonly policy?: never };

const KEEP_AS_IS = 'Its existing CronJobs are left as they were until the policy is fixed.';

function reasonOf(issues: readonly ValidationIssue[]): string {
  return issues.every((issue) => issue.path === 'spec.timeZone')
    ? 'UnknownTimeZone'
    : 'InvalidSpec';
}

/** Validates the object as read from the API server (status and server fields included). */
export function validatePolicyObject(object: unknown, name: string): PolicyValidity {
  // The status and the server's metadata are not the user's to validate.
  const { status: _status, ...rest } = object as Record<string, unknown>;
  const result = parseBackupPolicy(rest);
  if (result.ok) return { ok: true, policy: result.value };
  return {
    ok: false,
    problem: {
      reason: reasonOf(result.issues),
      message: `${formatIssues(BACKUP_POLICY_KIND, name, result.issues)}\n${KEEP_AS_IS}`,
    },
  };
}

/** Whether a Secret or ConfigMap of the policy's namespace exists. */
export interface ReferenceLookup {
  secretExists(name: string): boolean;
  configMapExists(name: string): boolean;
}

/** Every Secret the policy names, with its field: the runner's, then the identity's. */
export function secretFieldsOf(policy: BackupPolicy): [string, string | undefined][] {
  const { target, storage } = policy.spec;
  return [
    ['spec.target.credentials.secretName', target.credentials.secretName],
    ['spec.target.replicationCredentials.secretName', target.replicationCredentials?.secretName],
    ['spec.storage.s3.credentials.secretName', storage?.s3.credentials?.secretName],
    ...(storage?.encryption?.recipients ?? []).map(
      (recipient, index): [string, string | undefined] => [
        `spec.storage.encryption.recipients[${index}].secretKeyRef.name`,
        recipient.secretKeyRef?.name,
      ],
    ),
    // Mounted by the drills' and restores' pods, which would otherwise wait for it until
    // their deadline.
    [
      'spec.storage.encryption.identity.secretKeyRef.name',
      storage?.encryption?.identity?.secretKeyRef.name,
    ],
  ];
}

/** Every ConfigMap the policy names, with its field (recipients' public keys). */
export function configMapFieldsOf(policy: BackupPolicy): [string, string | undefined][] {
  return (policy.spec.storage?.encryption?.recipients ?? []).map((recipient, index) => [
    `spec.storage.encryption.recipients[${index}].configMapKeyRef.name`,
    recipient.configMapKeyRef?.name,
  ]);
}

/**
 * The first Secret or ConfigMap the policy names that does not exist, as a problem naming its
 * field. A run, a drill or a restore of the policy would fail on it.
 */
export function findMissingReference(
  policy: BackupPolicy,
  lookup: ReferenceLookup,
): PolicyProblem | undefined {
  const where = `namespace "${policy.metadata.namespace ?? ''}"`;
  const kinds = [
    {
      kind: 'Secret',
      reason: 'SecretNotFound',
      fields: secretFieldsOf(policy),
      exists: lookup.secretExists,
    },
    {
      kind: 'ConfigMap',
      reason: 'ConfigMapNotFound',
      fields: configMapFieldsOf(policy),
      exists: lookup.configMapExists,
    },
  ];
  for (const { kind, reason, fields, exists } of kinds) {
    for (const [field, name] of fields) {
      if (name !== undefined && !exists(name)) {
        return {
          reason,
          message: `${field}: ${kind} "${name}" does not exist in ${where}; create it or name an existing one. ${KEEP_AS_IS}`,
        };
      }
    }
  }
  return undefined;
}
