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

/** The first Secret the policy names that does not exist, as a problem naming its field. */
export function findMissingSecret(
  policy: BackupPolicy,
  secretExists: (name: string) => boolean,
): PolicyProblem | undefined {
  const fields: [string, string | undefined][] = [
    ['spec.target.credentials.secretName', policy.spec.target.credentials.secretName],
    [
      'spec.target.replicationCredentials.secretName',
      policy.spec.target.replicationCredentials?.secretName,
    ],
    ['spec.storage.s3.credentials.secretName', policy.spec.storage?.s3.credentials?.secretName],
  ];
  for (const [field, secretName] of fields) {
    if (secretName !== undefined && !secretExists(secretName)) {
      const where = `namespace "${policy.metadata.namespace ?? ''}"`;
      return {
        reason: 'SecretNotFound',
        message: `${field}: Secret "${secretName}" does not exist in ${where}; create it or name an existing one. ${KEEP_AS_IS}`,
      };
    }
  }
  return undefined;
}
