/** Lines a binary backup can belong to, from the shortest period to the longest. */
export const BINARY_LINES = ['daily', 'weekly', 'monthly', 'quarterly', 'yearly'] as const;

/** Lines a logical backup can belong to: logical backups have no daily line. */
export const LOGICAL_LINES = ['weekly', 'monthly', 'quarterly', 'yearly'] as const;

/** Name of a retention line. */
export type LineName = (typeof BINARY_LINES)[number];

/** Name of a line a logical backup can belong to. */
export type LogicalLineName = (typeof LOGICAL_LINES)[number];

/** The two kinds of backup. */
export const BACKUP_TYPES = ['binary', 'logical'] as const;

/** `binary` (pg_basebackup of the primary) or `logical` (pg_dump of a replica). */
export type BackupType = (typeof BACKUP_TYPES)[number];

/** Slots a line keeps when the policy lists no lines (the backup plan's defaults). */
export const DEFAULT_KEEP: Readonly<Record<LineName, number>> = {
  daily: 7,
  weekly: 4,
  monthly: 3,
  quarterly: 4,
  yearly: 2,
};

/** Fewest slots a line may keep. */
export const KEEP_MIN = 1;

/** Most slots a line may keep: bounds storage cost and the size of the slot table in status. */
export const KEEP_MAX = 100;

/** How each line fires, for descriptions shown by `kubectl explain` and the docs. */
export const LINE_RULES: Readonly<Record<LineName, string>> = {
  daily: 'fires every day; with keep 7 the slots are labelled by weekday (mon…sun)',
  weekly: 'fires on spec.schedule.weekday (Sunday by default); slots are labelled like sun-1…sun-4',
  monthly:
    'fires on the last day of each month (28th to 31st); slots are labelled by month (jan…dec)',
  quarterly: 'fires on the last day of March, June, September and December; slots q1…q4',
  yearly: 'fires on December 31; slots are labelled by year',
};
