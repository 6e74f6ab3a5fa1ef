/**
 * The databases a logical backup holds, read from its manifest (each `<percent-encoded
 * name>.dump` object, `.dump.age` when encrypted; `globals.sql` is the roles and tablespaces, not a database), and the
 * one a restore takes. Pure: the manifest is read by the caller.
 */
import type { BackupManifest } from '../storage/index.js';
import { GLOBALS_OBJECT } from './dump-databases.js';
import { RunError } from './errors.js';
import { ENCRYPTED_SUFFIX } from './stream-backup.js';

/** A database's dump in a logical backup. */
export interface DumpedDatabase {
  /** The database's name, decoded. */
  readonly name: string;
  /** The object's name within the backup, e.g. `caf%C3%A9.dump`. */
  readonly object: string;
  readonly sizeBytes: number;
  readonly sha256: string;
}

/** The wrong database was asked for, or none where the backup holds several: fix the arguments. */
export class DatabaseChoiceError extends Error {
  override readonly name = 'DatabaseChoiceError';
}

const DUMP_SUFFIX = '.dump';

/** The name an object of a dump stands for, or undefined for another object. */
function decodeDumpName(object: string): string | undefined {
  // An encrypted backup's dump is `<name>.dump.age` (the manifest's `encryption` says so).
  const plain = object.endsWith(ENCRYPTED_SUFFIX)
    ? object.slice(0, -ENCRYPTED_SUFFIX.length)
    : object;
  if (plain === GLOBALS_OBJECT || !plain.endsWith(DUMP_SUFFIX)) return undefined;
  try {
    return decodeURIComponent(plain.slice(0, -DUMP_SUFFIX.length));
  } catch {
    // Not written by dumpObjectNameOf: not a dump of ours.
    return undefined;
  }
}

/** The databases a logical backup holds, in the manifest's order. */
export function dumpedDatabasesOf(manifest: BackupManifest): DumpedDatabase[] {
  return manifest.objects.flatMap((object) => {
    const name = decodeDumpName(object.name);
    return name === undefined
      ? []
      : [{ name, object: object.name, sizeBytes: object.sizeBytes, sha256: object.sha256 }];
  });
}

/** The databases as a message lists them: `"a", "café"`. */
function listNames(databases: readonly DumpedDatabase[]): string {
  return databases.map((database) => `"${database.name}"`).join(', ');
}

/**
 * The database `wanted` names among the backup's, or its only one when `wanted` is undefined.
 *
 * @param key the backup's key, for messages
 * @throws DatabaseChoiceError listing the databases the backup holds
 */
export function chooseDatabase(
  databases: readonly DumpedDatabase[],
  wanted: string | undefined,
  key: string,
): DumpedDatabase {
  if (databases.length === 0) {
    throw new RunError(
      `the backup ${key} holds no database dump (only ${GLOBALS_OBJECT}): choose another backup with --backup KEY`,
    );
  }
  if (wanted === undefined) {
    const [only] = databases;
    if (databases.length === 1 && only !== undefined) return only;
    throw new DatabaseChoiceError(
      `the backup ${key} holds ${databases.length} databases: ${listNames(databases)}; name the one to restore with --database NAME`,
    );
  }
  const found = databases.find((database) => database.name === wanted);
  if (found === undefined) {
    throw new DatabaseChoiceError(
      `the backup ${key} holds no database "${wanted}"; it holds ${listNames(databases)}: give one of them to --database (names are case-sensitive)`,
    );
  }
  return found;
}
