/** The labels and annotations that mark what the operator owns. */
import { boundedName, LABEL_VALUE_MAX } from './object-name.js';

/** The value of `app.kubernetes.io/managed-by` on every object the operator creates. */
export const MANAGER_NAME = 'pgbackup-operator';

/** Label keys on owned objects. */
export const LABELS = {
  managedBy: 'app.kubernetes.io/managed-by',
  component: 'app.kubernetes.io/component',
  policy: 'pgbackup.dev/policy',
  type: 'pgbackup.dev/type',
  line: 'pgbackup.dev/line',
  backup: 'pgbackup.dev/backup',
} as const;

/** The label selector that finds every object the operator manages. */
export const MANAGED_SELECTOR = `${LABELS.managedBy}=${MANAGER_NAME}`;

/** The labels every object owned by a policy carries. */
export function policyLabels(policyName: string): Record<string, string> {
  // A policy name may be longer than a label value; owner references, not this label,
  // are what the controller follows back to the policy.
  return {
    [LABELS.managedBy]: MANAGER_NAME,
    [LABELS.policy]: boundedName(policyName, LABEL_VALUE_MAX),
  };
}
