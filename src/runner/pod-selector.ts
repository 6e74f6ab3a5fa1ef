/**
 * The label selector of a policy's target, as the API's `labelSelector` query parameter:
 * the user's own selector, or the labels a known operator puts on its PostgreSQL pods.
 */
import type { BackupPolicySpec, PresetKind } from '../api/index.js';

/** The labels each operator sets on the pods of a cluster named `cluster`. */
export function presetLabelsOf(kind: PresetKind, cluster: string): Record<string, string> {
  switch (kind) {
    case 'cloudnative-pg':
      return { 'cnpg.io/cluster': cluster };
    case 'zalando':
      return { application: 'spilo', 'cluster-name': cluster };
    case 'crunchy':
      return {
        'postgres-operator.crunchydata.com/cluster': cluster,
        'postgres-operator.crunchydata.com/data': 'postgres',
      };
    case 'bitnami':
      return { 'app.kubernetes.io/instance': cluster, 'app.kubernetes.io/name': 'postgresql' };
  }
}

type Target = BackupPolicySpec['target'];
type Requirement = NonNullable<NonNullable<Target['selector']>['matchExpressions']>[number];

function requirementOf(requirement: Requirement): string {
  const values = (requirement.values ?? []).join(',');
  switch (requirement.operator) {
    case 'In':
      return `${requirement.key} in (${values})`;
    case 'NotIn':
      return `${requirement.key} notin (${values})`;
    case 'Exists':
      return requirement.key;
    case 'DoesNotExist':
      return `!${requirement.key}`;
  }
}

/** The `labelSelector` of the target's pods; undefined for `target.hosts`. */
export function labelSelectorOf(target: Target): string | undefined {
  if (target.preset !== undefined) {
    const labels = presetLabelsOf(target.preset.kind, target.preset.cluster);
    return Object.entries(labels)
      .map(([key, value]) => `${key}=${value}`)
      .join(',');
  }
  if (target.selector === undefined) return undefined;
  const labels = Object.entries(target.selector.matchLabels ?? {}).map(
    ([key, value]) => `${key}=${value}`,
  );
  const expressions = (target.selector.matchExpressions ?? []).map(requirementOf);
  return [...labels, ...expressions].join(',');
}
