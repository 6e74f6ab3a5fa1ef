import * as z from 'zod';
import { withRules } from './cross-field-rule.js';
import { closedObject, LABEL_VALUE_PATTERN, secretReference, setOf } from './fields.js';

/** Operators that label their PostgreSQL pods in a known way. */
export const PRESET_KINDS = ['cloudnative-pg', 'zalando', 'crunchy', 'bitnami'] as const;

/** One of {@link PRESET_KINDS}. */
export type PresetKind = (typeof PRESET_KINDS)[number];

/** `host` or `host:port`, where host is a DNS name, an IPv4 address or a bracketed IPv6 one. */
export const HOST_PATTERN =
  /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9]([-A-Za-z0-9.]*[A-Za-z0-9])?)(:[0-9]{1,5})?$/;

const labelValue = z.string().max(63).regex(LABEL_VALUE_PATTERN, {
  error: 'must be a label value: letters, digits, "-", "_" and ".", at most 63 characters',
});

const matchExpression = withRules(
  closedObject({
    key: z.string().min(1).max(317).describe('The label key the requirement applies to.'),
    operator: z
      .enum(['In', 'NotIn', 'Exists', 'DoesNotExist'])
      .describe("How the key's value relates to values: In, NotIn, Exists or DoesNotExist."),
    values: z
      .array(labelValue)
      .max(64)
      .optional()
      .describe('Values for In and NotIn (at least one); empty for Exists and DoesNotExist.'),
  }),
  [
    {
      cel: "self.operator in ['In', 'NotIn'] ? has(self.values) && size(self.values) > 0 : !has(self.values) || size(self.values) == 0",
      message: 'In and NotIn need at least one value; Exists and DoesNotExist take none',
      field: ['values'],
      check: (expression) =>
        (expression.operator === 'In' || expression.operator === 'NotIn') ===
        (expression.values ?? []).length > 0,
    },
  ],
).describe('A label selector requirement, as in any Kubernetes label selector.');

const labelSelector = withRules(
  closedObject({
    matchLabels: z
      .record(z.string().min(1).max(317), labelValue)
      .optional()
      .describe('Labels a pod must carry, all of them, with these values.'),
    matchExpressions: z
      .array(matchExpression)
      .max(16)
      .optional()
      .describe('Requirements a pod must meet, all of them.'),
  }),
  [
    {
      cel: '(has(self.matchLabels) && size(self.matchLabels) > 0) || (has(self.matchExpressions) && size(self.matchExpressions) > 0)',
      message: 'must not be empty: an empty selector would match every pod in the namespace',
      check: (selector) =>
        Object.keys(selector.matchLabels ?? {}).length > 0 ||
        (selector.matchExpressions ?? []).length > 0,
    },
  ],
).describe(
  'Selects the pods of the PostgreSQL instances by their labels. At run time the runner asks each selected server whether it is the primary or a replica.',
);

const preset = closedObject({
  kind: z
    .enum(PRESET_KINDS)
    .describe(
      'The operator that manages the cluster: cloudnative-pg, zalando, crunchy or bitnami. Decides which pod labels are matched.',
    ),
  cluster: labelValue.describe(
    'Name of the cluster (for bitnami: the Helm release), as it appears in the pod labels.',
  ),
}).describe(
  'Finds the pods of a cluster managed by a known operator from the labels that operator sets.',
);

const targetKinds = ['selector', 'preset', 'hosts'] as const;

/** Which PostgreSQL to back up and how to log in. */
export const targetSchema = withRules(
  closedObject({
    selector: labelSelector.optional(),
    preset: preset.optional(),
    hosts: setOf(
      z.string().max(261).regex(HOST_PATTERN, {
        error: 'must be host or host:port, e.g. "db.example.com:5432" or "[2001:db8::1]:5432"',
      }),
      16,
    )
      .min(1)
      .optional()
      .describe(
        'Static endpoints, host or host:port, for PostgreSQL running outside the cluster. The runner asks each one whether it is the primary or a replica.',
      ),
    port: z
      .int()
      .min(1)
      .max(65535)
      .default(5432)
      .describe('PostgreSQL port on the selected pods, and on hosts given without a port.'),
    credentials: secretReference(
      'Secret with the keys "username" and "password" of a role that can connect to every database (pg_dump) and run backups.',
    ),
    replicationCredentials: secretReference(
      'Secret with the keys "username" and "password" of a role with the REPLICATION attribute, for pg_basebackup. Omitted: the credentials above are used.',
    ).optional(),
  }),
  [
    {
      cel: `[${targetKinds.map((kind) => `has(self.${kind})`).join(', ')}].filter(set, set).size() == 1`,
      message: 'exactly one of selector, preset or hosts must be set',
      check: (target) => targetKinds.filter((kind) => target[kind] !== undefined).length === 1,
    },
  ],
).describe(
  'The PostgreSQL instances to back up: exactly one of selector, preset or hosts, plus how to log in.',
);
