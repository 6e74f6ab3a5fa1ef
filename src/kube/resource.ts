/** Where a kind of object lives in the API: its group, version and plural, and URL paths. */

/** A resource type the operator reads or writes. */
export interface ResourceType {
  /** Empty for the core group. */
  readonly group: string;
  readonly version: string;
  readonly plural: string;
  readonly kind: string;
}

/** The resources the operator touches. */
export const RESOURCES = {
  backupPolicy: {
    group: 'pgbackup.dev',
    version: 'v1alpha1',
    plural: 'backuppolicies',
    kind: 'BackupPolicy',
  },
  backup: { group: 'pgbackup.dev', version: 'v1alpha1', plural: 'backups', kind: 'Backup' },
  restore: { group: 'pgbackup.dev', version: 'v1alpha1', plural: 'restores', kind: 'Restore' },
  cronJob: { group: 'batch', version: 'v1', plural: 'cronjobs', kind: 'CronJob' },
  job: { group: 'batch', version: 'v1', plural: 'jobs', kind: 'Job' },
  serviceAccount: { group: '', version: 'v1', plural: 'serviceaccounts', kind: 'ServiceAccount' },
  role: { group: 'rbac.authorization.k8s.io', version: 'v1', plural: 'roles', kind: 'Role' },
  roleBinding: {
    group: 'rbac.authorization.k8s.io',
    version: 'v1',
    plural: 'rolebindings',
    kind: 'RoleBinding',
  },
  secret: { group: '', version: 'v1', plural: 'secrets', kind: 'Secret' },
  configMap: { group: '', version: 'v1', plural: 'configmaps', kind: 'ConfigMap' },
  pod: { group: '', version: 'v1', plural: 'pods', kind: 'Pod' },
  deployment: { group: 'apps', version: 'v1', plural: 'deployments', kind: 'Deployment' },
  persistentVolumeClaim: {
    group: '',
    version: 'v1',
    plural: 'persistentvolumeclaims',
    kind: 'PersistentVolumeClaim',
  },
  lease: { group: 'coordination.k8s.io', version: 'v1', plural: 'leases', kind: 'Lease' },
  event: { group: 'events.k8s.io', version: 'v1', plural: 'events', kind: 'Event' },
} as const satisfies Record<string, ResourceType>;

/** The resource of a manifest's apiVersion and kind, if the operator knows it. */
export function resourceOfKind(apiVersion: string, kind: string): ResourceType | undefined {
  return Object.values(RESOURCES).find(
    (resource) =>
      resource.kind === kind &&
      (resource.group === '' ? resource.version : `${resource.group}/${resource.version}`) ===
        apiVersion,
  );
}

/**
 * The URL path of a collection (no name) or an object, in one namespace or (namespace
 * undefined) across all of them.
 */
export function resourcePath(
  resource: ResourceType,
  where: { namespace?: string | undefined; name?: string; subresource?: string },
): string {
  const base =
    resource.group === ''
      ? `/api/${resource.version}`
      : `/apis/${resource.group}/${resource.version}`;
  const namespace =
    where.namespace === undefined ? '' : `/namespaces/${encodeURIComponent(where.namespace)}`;
  const name = where.name === undefined ? '' : `/${encodeURIComponent(where.name)}`;
  const subresource = where.subresource === undefined ? '' : `/${where.subresource}`;
  return `${base}${namespace}/${resource.plural}${name}${subresource}`;
}
