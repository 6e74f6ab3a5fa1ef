/** The API group of every pgbackup resource. */
export const GROUP = 'pgbackup.dev';

/** The one served (and stored) version of the API. */
export const VERSION = 'v1alpha1';

/** `apiVersion` as it appears in manifests. */
export const API_VERSION = `${GROUP}/${VERSION}` as const;

/** Kind of the resource that describes a backup plan. */
export const BACKUP_POLICY_KIND = 'BackupPolicy';

/** Plural (URL) name of {@link BACKUP_POLICY_KIND}. */
export const BACKUP_POLICY_PLURAL = 'backuppolicies';

/** Kind of the resource that records one backup. */
export const BACKUP_KIND = 'Backup';

/** Plural (URL) name of {@link BACKUP_KIND}. */
export const BACKUP_PLURAL = 'backups';
