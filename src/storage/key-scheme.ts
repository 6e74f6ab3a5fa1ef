/**
 * The storage layout of DESIGN.md §3:
 * `<prefix>/<namespace>/<policy>/<type>/<line>/<slot>/<UTC timestamp>-<id>/`; an on-demand
 * backup, which belongs to no line, lives under `<type>/on-demand/<UTC timestamp>-<id>/`.
 */

/** Where a policy's backups of one type live. */
export interface PolicyLocation {
  /** `spec.storage.s3.prefix`; empty for the bucket root. */
  readonly prefix: string;
  readonly namespace: string;
  readonly policy: string;
  readonly type: 'binary' | 'logical';
}

/** One backup's place in the layout. */
export interface BackupLocation extends PolicyLocation {
  /** The line, or `on-demand` for a backup that belongs to no line. */
  readonly line: string;
  /** Omitted for an on-demand backup, which fills no slot. */
  readonly slot: number | undefined;
  readonly startedAtMs: number;
  readonly id: string;
}

function joinSegments(segments: readonly string[]): string {
  return `${segments.filter((segment) => segment !== '').join('/')}/`;
}

/** `20261125T082755Z`: sortable, and safe in S3 keys and file names. */
export function formatKeyTimestamp(instantMs: number): string {
  return new Date(instantMs)
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}Z$/, 'Z');
}

/** The key prefix (ending in `/`) under which every backup of a policy's type lives. */
export function policyKeyPrefix(location: PolicyLocation): string {
  return joinSegments([location.prefix, location.namespace, location.policy, location.type]);
}

/** The key prefix (ending in `/`) of one backup: its objects and its manifest live under it. */
export function backupKeyPrefix(location: BackupLocation): string {
  return joinSegments([
    policyKeyPrefix(location).slice(0, -1),
    location.line,
    location.slot === undefined ? '' : String(location.slot),
    `${formatKeyTimestamp(location.startedAtMs)}-${location.id}`,
  ]);
}

/** The name of the object whose presence commits a backup. */
export const MANIFEST_NAME = 'manifest.json';

/** Where a policy's WAL lives: `<prefix>/<namespace>/<policy>/wal/` (DESIGN.md §3). */
export function walKeyPrefix(location: {
  readonly prefix: string;
  readonly namespace: string;
  readonly policy: string;
}): string {
  return joinSegments([location.prefix, location.namespace, location.policy, 'wal']);
}
