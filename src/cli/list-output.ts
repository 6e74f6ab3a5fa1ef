/**
 * What `pgbackup list` prints: the catalog as aligned columns for people, or as a JSON array
 * for scripts. Pure: the entries are read by the caller.
 */
import { lineOf } from '../runner/backup-choice.js';
import { dumpedDatabasesOf } from '../runner/logical-databases.js';
import { isOnDemand } from '../runner/on-demand.js';
import type { BackupManifest, CatalogEntry } from '../storage/index.js';
import { renderColumns } from './text-columns.js';

/** The databases a logical backup holds, decoded, in the manifest's order. */
function databasesOf(manifest: BackupManifest): string[] {
  return dumpedDatabasesOf(manifest).map((database) => database.name);
}

/** The bytes a backup occupies: the sum of its objects (the manifest aside). */
export function sizeOf(manifest: BackupManifest): number {
  return manifest.objects.reduce((sum, object) => sum + object.sizeBytes, 0);
}

const BYTE_UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'] as const;

/** A size for people, in binary units: `512 B`, `12 KiB`, `340 MiB`, `1.2 GiB`. */
export function formatSize(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (unit < BYTE_UNITS.length - 1 && value >= 1024) {
    value /= 1024;
    unit += 1;
  }
  // One decimal below 10 (`1.2 GiB`), whole numbers above (`340 MiB`), as `ls -h` does.
  let text = unit > 0 && value < 9.95 ? value.toFixed(1) : String(Math.round(value));
  if (text === '1024' && unit < BYTE_UNITS.length - 1) {
    // 1023.7 KiB rounds to 1024 KiB: say 1.0 MiB instead.
    unit += 1;
    text = '1.0';
  }
  return `${text} ${BYTE_UNITS[unit]}`;
}

/** An instant as `2026-11-25 08:27:55Z` (UTC, whole seconds); text that is no instant as is. */
export function formatInstant(instant: string): string {
  const ms = Date.parse(instant);
  if (Number.isNaN(ms)) return instant;
  return new Date(ms)
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d{3}Z$/, 'Z');
}

/**
 * PostgreSQL's version, short: `16.4` from `server_version_num` 160004 (`9.6.24` before 10);
 * the recorded `server_version` text when the number is missing.
 */
export function shortVersion(server: BackupManifest['server']): string {
  const number = server.versionNumber;
  if (!Number.isInteger(number) || number <= 0) return server.version.split(' ')[0] ?? '';
  const major = Math.floor(number / 10000);
  if (major >= 10) return `${major}.${number % 10000}`;
  return `${major}.${Math.floor(number / 100) % 100}.${number % 100}`;
}

/** A cell of free text (a database name) that stays one unambiguous cell: quoted if need be. */
function cellText(text: string): string {
  return /^[\p{L}\p{N}_.$-]+$/u.test(text) ? text : JSON.stringify(text);
}

const COLUMNS = [
  'TYPE',
  'LINE',
  'SLOT',
  'STARTED',
  'COMMITTED',
  'SIZE',
  'POSTGRESQL',
  'DATABASES',
  'RECIPIENTS',
  'KEY',
] as const;

/** Which optional columns a listing has: each only when a listed backup fills it. */
interface OptionalColumns {
  readonly withDatabases: boolean;
  readonly withRecipients: boolean;
}

function rowOf(entry: CatalogEntry, columns: OptionalColumns): string[] {
  const { manifest } = entry;
  const recipients = manifest.encryption?.recipients.join(',') ?? '-';
  const databases =
    manifest.type === 'logical' ? databasesOf(manifest).map(cellText).join(',') || '-' : '-';
  return [
    manifest.type,
    lineOf(entry),
    manifest.slotLabel,
    formatInstant(manifest.startedAt),
    formatInstant(manifest.committedAt),
    formatSize(sizeOf(manifest)),
    shortVersion(manifest.server),
    ...(columns.withDatabases ? [databases] : []),
    ...(columns.withRecipients ? [recipients] : []),
    entry.key,
  ];
}

/**
 * The catalog in columns as `kubectl get` prints them: a header, then one row a backup in the
 * order given. The DATABASES column (the databases a logical backup holds, `globals.sql` aside)
 * is there only when a logical backup is listed, RECIPIENTS (the fingerprints of the keys an
 * encrypted backup was made for, `-` for a plain one) only when an encrypted one is; KEY comes
 * last, to be copied whole.
 */
export function renderListText(entries: readonly CatalogEntry[]): string {
  const columns = {
    withDatabases: entries.some((entry) => entry.manifest.type === 'logical'),
    withRecipients: entries.some((entry) => entry.manifest.encryption !== undefined),
  };
  const header = COLUMNS.filter(
    (column) =>
      (columns.withDatabases || column !== 'DATABASES') &&
      (columns.withRecipients || column !== 'RECIPIENTS'),
  );
  const rows = [[...header], ...entries.map((entry) => rowOf(entry, columns))];
  return renderColumns(rows);
}

/** One backup as `pgbackup list -o json` prints it; the fields in this order. */
export interface ListedBackup {
  /** The key prefix, ending in `/`: what `pgbackup restore --backup` takes. */
  readonly key: string;
  readonly type: BackupManifest['type'];
  /** The line, or `on-demand` for a backup of no line. */
  readonly line: string;
  /** The slot's number in its line; `null` for an on-demand backup, which fills none. */
  readonly slot: number | null;
  readonly slotLabel: string;
  readonly startedAt: string;
  readonly completedAt: string;
  readonly committedAt: string;
  /** The sum of the objects' sizes. */
  readonly sizeBytes: number;
  readonly server: {
    readonly version: string;
    readonly versionNumber: number;
    readonly host: string;
  };
  readonly compression: string;
  /** Logical backups only: the databases dumped, decoded from the object names. */
  readonly databases?: readonly string[];
  /**
   * Encrypted backups only: the fingerprints of the recipients (public keys) it was made for,
   * the identity of one of which reads it (`--identity FILE`).
   */
  readonly encryption?: NonNullable<BackupManifest['encryption']>;
  readonly objects: BackupManifest['objects'];
}

/** A backup as a script reads it, from its manifest. */
export function listedBackupOf(entry: CatalogEntry): ListedBackup {
  const { manifest } = entry;
  return {
    key: entry.key,
    type: manifest.type,
    line: lineOf(entry),
    slot: isOnDemand(manifest) ? null : manifest.slot,
    slotLabel: manifest.slotLabel,
    startedAt: manifest.startedAt,
    completedAt: manifest.completedAt,
    committedAt: manifest.committedAt,
    sizeBytes: sizeOf(manifest),
    server: {
      version: manifest.server.version,
      versionNumber: manifest.server.versionNumber,
      host: manifest.server.host,
    },
    compression: manifest.compression,
    ...(manifest.type === 'logical' ? { databases: databasesOf(manifest) } : {}),
    ...(manifest.encryption === undefined
      ? {}
      : {
          encryption: {
            format: manifest.encryption.format,
            recipients: [...manifest.encryption.recipients],
          },
        }),
    objects: manifest.objects.map(({ name, sizeBytes, sha256 }) => ({ name, sizeBytes, sha256 })),
  };
}

/** The catalog as a JSON array (`[]` when empty), in the order given, with a trailing newline. */
export function renderListJson(entries: readonly CatalogEntry[]): string {
  return `${JSON.stringify(entries.map(listedBackupOf), null, 2)}\n`;
}
