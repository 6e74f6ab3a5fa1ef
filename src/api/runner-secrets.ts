/**
 * What the backup runner reads through the API with its own service account (the Role the
 * controller renders for it grants exactly these, by name), and the policy's rules that keep
 * the age identity out of that set: backup pods can write backups, never read them.
 */
import type { CrossFieldRule } from './cross-field-rule.js';
import type { EncryptionSpec } from './encryption.js';

/** The parts of a policy's spec that name Secrets and ConfigMaps. */
export interface PolicyReferences {
  readonly target: {
    readonly credentials: { readonly secretName: string };
    readonly replicationCredentials?: { readonly secretName: string } | undefined;
  };
  readonly storage?:
    | {
        readonly s3: { readonly credentials?: { readonly secretName: string } | undefined };
        readonly encryption?: EncryptionSpec | undefined;
      }
    | undefined;
  readonly verify: { readonly schedule: string };
}

function distinct(names: readonly (string | undefined)[]): string[] {
  return [...new Set(names.filter((name): name is string => name !== undefined))];
}

/**
 * Every Secret the runner (backup runs, the WAL receiver, drills) reads, in a stable order
 * and without repeats: the logins, the bucket's keys, and the Secrets of recipients. Never
 * the identity's (see {@link runnerReferenceRules}).
 */
export function runnerSecretNamesOf(spec: PolicyReferences): string[] {
  const { target, storage } = spec;
  return distinct([
    target.credentials.secretName,
    target.replicationCredentials?.secretName,
    storage?.s3.credentials?.secretName,
    ...(storage?.encryption?.recipients ?? []).map((recipient) => recipient.secretKeyRef?.name),
  ]);
}

/** Every ConfigMap the runner reads: those holding recipients, in order, without repeats. */
export function runnerConfigMapNamesOf(spec: PolicyReferences): string[] {
  return distinct(
    (spec.storage?.encryption?.recipients ?? []).map(
      (recipient) => recipient.configMapKeyRef?.name,
    ),
  );
}

const ENCRYPTION = 'self.storage.encryption';
const HAS_IDENTITY = `has(self.storage) && has(${ENCRYPTION}) && has(${ENCRYPTION}.identity)`;
/** {@link runnerSecretNamesOf} in CEL: the lists the runner's Role grants. */
const RUNNER_SECRETS_CEL = [
  '[self.target.credentials.secretName]',
  '(has(self.target.replicationCredentials) ? [self.target.replicationCredentials.secretName] : [])',
  '(has(self.storage.s3.credentials) ? [self.storage.s3.credentials.secretName] : [])',
  `${ENCRYPTION}.recipients.filter(r, has(r.secretKeyRef)).map(r, r.secretKeyRef.name)`,
].join(' + ');

/**
 * The policy's rules on where the identity is kept, written on the spec (they compare
 * fields of target, storage and verify). Both zod and the API server check them.
 */
export const runnerReferenceRules: readonly CrossFieldRule<PolicyReferences>[] = [
  {
    cel: `!(${HAS_IDENTITY}) || !(${ENCRYPTION}.identity.secretKeyRef.name in ${RUNNER_SECRETS_CEL})`,
    message:
      "names a Secret the backup runner also reads (target.credentials, target.replicationCredentials, storage.s3.credentials or a recipient's secretKeyRef), so the pods that take backups could read the identity: put the identity in a Secret of its own and name that here",
    field: ['storage', 'encryption', 'identity', 'secretKeyRef', 'name'],
    check: (spec) => {
      const identity = spec.storage?.encryption?.identity?.secretKeyRef.name;
      return identity === undefined || !runnerSecretNamesOf(spec).includes(identity);
    },
  },
  {
    cel: `self.verify.schedule == 'never' || !has(self.storage) || !has(${ENCRYPTION}) || has(${ENCRYPTION}.identity)`,
    message:
      'is required while verify.schedule is not "never": the restore drills must decrypt the encrypted backups. Name the Secret holding the age identity (identity.secretKeyRef), or set verify.schedule to "never"',
    field: ['storage', 'encryption', 'identity'],
    reason: 'FieldValueRequired',
    check: (spec) =>
      spec.verify.schedule === 'never' ||
      spec.storage?.encryption === undefined ||
      spec.storage.encryption.identity !== undefined,
  },
];
