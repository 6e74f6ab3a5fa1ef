/**
 * `pgbackup restore --type logical`: one database of a committed logical backup restored with
 * pg_restore into a new database on a server. The order keeps every failure cheap and clean:
 * the backup and the database are chosen from the manifest, the target database is checked to
 * be absent (nothing downloaded yet), the dump is downloaded and checked against the manifest
 * (nothing created yet), and only then is the database created; a failed pg_restore drops it
 * again. The downloaded dump is removed whatever happened.
 */
import { access, mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { formatEndpoint, locatePgTool } from '../postgres/index.js';
import { restoreDump } from '../postgres/restore-dump.js';
import {
  createDatabase,
  databaseExists,
  dropDatabase,
  type MaintenanceSession,
  type RestoreTarget,
  readServerVersion,
  withMaintenanceSession,
} from '../postgres/restore-target.js';
import type { CatalogEntry } from '../storage/index.js';
import type { ObjectDownloader } from '../storage/object-download.js';
import { type BackupChoice, findBackup, type PolicyBackups } from './backup-choice.js';
import { RunError } from './errors.js';
import { chooseDatabase, type DumpedDatabase, dumpedDatabasesOf } from './logical-databases.js';
import { majorOf } from './verify-restore.js';

/** What {@link restoreLogicalBackup} needs. */
export interface LogicalRestoreInput extends PolicyBackups {
  readonly downloader: ObjectDownloader;
  readonly choice: BackupChoice;
  /** The database of the backup to restore; undefined: its only one. */
  readonly database: string | undefined;
  /** The database to create; undefined: the dumped database's name. */
  readonly into: string | undefined;
  readonly noOwner: boolean;
  readonly jobs: number;
  /** The dump is downloaded into a fresh directory inside. */
  readonly workDir: string;
  readonly pgRoot: string | undefined;
  /** The server to restore into, as libpq's environment names it. */
  readonly target: RestoreTarget;
  readonly logger: Logger;
}

/** What was restored where. */
export interface LogicalRestoreResult {
  readonly entry: CatalogEntry;
  readonly database: DumpedDatabase;
  /** The dump's key in the store. */
  readonly objectKey: string;
  readonly into: string;
  /** `host:port` of the server restored into. */
  readonly where: string;
  /** The target server's `server_version`. */
  readonly serverVersion: string;
  /** The pg_restore that ran. */
  readonly pgRestore: string;
}

/** The database to create exists already: nothing was downloaded or changed. */
export class TargetExistsError extends Error {
  override readonly name = 'TargetExistsError';
}

async function checkWorkDir(workDir: string): Promise<void> {
  await access(workDir).catch((error: unknown) => {
    throw new RunError(
      `the work directory ${workDir} does not exist or cannot be used: create it (with room for the dump), or point --work-dir elsewhere`,
      { cause: error },
    );
  });
}

/** Refuses a database to create that exists already, naming it and the fix. */
async function refuseExisting(
  input: LogicalRestoreInput,
  session: MaintenanceSession,
  into: string,
): Promise<void> {
  if (!(await databaseExists(session, into))) return;
  const option = input.into !== undefined ? 'another --into NAME' : '--into NAME';
  throw new TargetExistsError(
    `database "${into}" already exists on ${session.where}; nothing was downloaded or changed. Restore into a new database with ${option}, or drop "${into}" first if it may go`,
  );
}

/** The target's version, after checking that `into` is absent there. */
async function checkTarget(input: LogicalRestoreInput, into: string) {
  return withMaintenanceSession(input.target, async (session) => {
    await refuseExisting(input, session, into);
    return readServerVersion(session);
  });
}

async function createTarget(input: LogicalRestoreInput, into: string): Promise<void> {
  await withMaintenanceSession(input.target, async (session: MaintenanceSession) => {
    // Checked again: it may have appeared while the dump was downloading.
    await refuseExisting(input, session, into);
    await createDatabase(session, into);
  });
}

/** Drops the database this restore created; says whether it could. */
async function dropTarget(input: LogicalRestoreInput, into: string): Promise<string> {
  try {
    await withMaintenanceSession(input.target, (session) => dropDatabase(session, into));
    return `the database "${into}" it created was dropped again`;
  } catch (error) {
    input.logger.error({ err: error, database: into }, 'could not drop the database');
    const reason = error instanceof Error ? error.message : String(error);
    return `the database "${into}" it created could not be dropped (${reason}): drop it by hand`;
  }
}

async function restoreInto(
  input: LogicalRestoreInput,
  restore: { binary: string; dumpFile: string; into: string },
): Promise<void> {
  const where = formatEndpoint(input.target.endpoint);
  await createTarget(input, restore.into);
  input.logger.info({ database: restore.into, jobs: input.jobs }, 'running pg_restore');
  try {
    const warnings = await restoreDump({
      binary: restore.binary,
      dumpFile: restore.dumpFile,
      database: restore.into,
      jobs: input.jobs,
      noOwner: input.noOwner,
      credentials: input.target.credentials,
      where,
    });
    if (warnings.trim() !== '') input.logger.warn({ stderr: warnings.trim() }, 'pg_restore said');
  } catch (error) {
    const dropped = await dropTarget(input, restore.into);
    const reason = error instanceof Error ? error.message : String(error);
    // The message carries pg_restore's own; a cause would print it twice.
    throw new RunError(`${reason}\nNothing was restored: ${dropped}`);
  }
}

/**
 * Restores one database of the chosen logical backup into a new database.
 *
 * @throws WrongIdentityError (nothing downloaded or created) when the backup is encrypted and
 *   the downloader holds no identity for it; TamperedObjectError when the dump matches its
 *   manifest but does not decrypt (nothing created)
 * @throws DatabaseChoiceError when --database is missing or names no database of the backup;
 *   TargetExistsError when the database to create exists; ObjectMismatchError when the dump
 *   differs from its manifest (nothing created); RunError when pg_restore fails (the new
 *   database dropped); StorageError, PostgresError, ToolNotFoundError
 */
export async function restoreLogicalBackup(
  input: LogicalRestoreInput,
): Promise<LogicalRestoreResult> {
  await checkWorkDir(input.workDir);
  const entry = await findBackup(input, 'logical', input.choice);
  const database = chooseDatabase(dumpedDatabasesOf(entry.manifest), input.database, entry.key);
  const into = input.into ?? database.name;
  // An encrypted backup without its identity is refused before the target is even asked.
  input.downloader.requireIdentity(entry);
  const where = formatEndpoint(input.target.endpoint);
  input.logger.info({ key: entry.key, database: database.name, into, server: where }, 'restoring');
  const server = await checkTarget(input, into);
  // pg_restore reads archives of its own and older versions, and speaks to older servers.
  const major = Math.max(majorOf(entry.manifest), Math.floor(server.versionNumber / 10_000));
  const binary = await locatePgTool({
    tool: 'pg_restore',
    major,
    orNewer: true,
    root: input.pgRoot,
  });
  const objectKey = `${entry.key}${database.object}`;
  const dir = await mkdtemp(join(input.workDir, 'pgbackup-restore-'));
  try {
    const dumpFile = join(dir, database.object);
    input.logger.info({ object: objectKey }, 'downloading and checking the dump');
    await input.downloader.download(objectKey, dumpFile, database, entry.manifest.encryption);
    await restoreInto(input, { binary, dumpFile, into });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  input.logger.info({ database: into }, 'restored');
  return {
    entry,
    database,
    objectKey,
    into,
    where,
    serverVersion: server.version,
    pgRestore: binary,
  };
}
