/**
 * `pgbackup restore` of a binary backup (DESIGN.md §5): each object of the chosen committed
 * backup is extracted into the target data directory while it downloads (through a named pipe
 * in a temporary directory beside the target, ./restore-stream.ts), checked against its
 * manifest on the way, and the whole checked with `pg_verifybackup`, as the restore drill
 * does; a damaged object takes back everything extracted. The target must not exist or be empty, and is refused before anything is
 * downloaded otherwise; on failure the restore takes back everything it wrote. Nothing in the
 * store changes.
 */
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { CatalogEntry } from '../storage/index.js';
import type { ObjectDownloader } from '../storage/object-download.js';
import { type BackupChoice, findBackup, type PolicyBackups } from './backup-choice.js';
import { RunError } from './errors.js';
import {
  claimRestoreTarget,
  inspectRestoreTarget,
  isInside,
  isWritableDir,
  type RestoreTarget,
  tightenTargetMode,
  undoRestoreTarget,
} from './restore-data-dir.js';
import { streamRestoreBackup } from './restore-stream.js';
import {
  inspectRestoredConfiguration,
  type RestoredConfiguration,
} from './restored-configuration.js';

/**
 * The restore failed after it started writing (a damaged object, an archive that does not
 * extract, pg_verifybackup, a store that cannot be read): the message names the backup and the
 * target, what failed and what was taken back; `cause` is what failed.
 */
export class RestoreFailedError extends Error {
  override readonly name = 'RestoreFailedError';
}

/** What {@link restoreBinaryBackup} needs. */
export interface BinaryRestoreInput extends PolicyBackups {
  readonly downloader: ObjectDownloader;
  readonly choice: BackupChoice;
  /** The data directory to fill (absolute): it must not exist, or be empty. */
  readonly targetDir: string;
  /** Where the download directory is made (best on the target's filesystem); it must exist. */
  readonly workDir: string;
  readonly pgRoot: string | undefined;
  /** The user id the restore runs as (`process.getuid()`): root is refused. */
  readonly uid: number | undefined;
  readonly logger: Logger;
}

/** A finished restore. */
export interface BinaryRestoreOutcome {
  readonly entry: CatalogEntry;
  readonly targetDir: string;
  /** Whether the restore created the target (else it filled an empty directory). */
  readonly created: boolean;
  /** The mode an existing target had, when the restore tightened it to 0700 for PostgreSQL. */
  readonly previousMode: number | undefined;
  readonly configuration: RestoredConfiguration;
  /** Where the backups were listed, e.g. `s3://bucket (…)`. */
  readonly storeDescription: string;
}

async function checkWorkDir(workDir: string, targetDir: string): Promise<void> {
  if (isInside(workDir, targetDir)) {
    throw new RunError(
      `the work directory ${workDir} lies inside the target directory ${targetDir}: the download would end up in the data directory; give a --work-dir outside it (by default the target's parent)`,
    );
  }
  const stats = await stat(workDir).catch(() => undefined);
  if (stats?.isDirectory() !== true) {
    throw new RunError(
      `the work directory ${workDir} does not exist or is not a directory: create it (with room for the largest compressed object of the backup), or point --work-dir elsewhere`,
    );
  }
  if (!(await isWritableDir(workDir))) {
    throw new RunError(
      `the work directory ${workDir} is not writable by the user running the restore, who downloads the backup there (by default into the target's parent): point --work-dir at a directory that user may write, with room for the largest compressed object of the backup`,
    );
  }
}

async function checkPreconditions(input: BinaryRestoreInput): Promise<RestoreTarget> {
  if (input.uid === 0) {
    throw new RunError(
      `refusing to restore as root: the restored files would belong to root, and PostgreSQL refuses to start as root or on a data directory it does not own. Run it as the user that will run the server, e.g. \`su postgres -c "pgbackup restore ..."\`, with a --target-dir that user may create`,
    );
  }
  const target = await inspectRestoreTarget(input.targetDir, input.uid);
  await checkWorkDir(input.workDir, input.targetDir);
  return target;
}

async function fill(input: BinaryRestoreInput, entry: CatalogEntry, target: RestoreTarget) {
  const downloadDir = await mkdtemp(join(input.workDir, 'pgbackup-restore-download-'));
  try {
    await claimRestoreTarget(target);
    try {
      await streamRestoreBackup({
        entry,
        downloader: input.downloader,
        downloadDir,
        dataDir: target.dir,
        pgRoot: input.pgRoot,
      });
    } catch (error) {
      input.logger.error({ err: error, key: entry.key }, 'the restore failed; taking it back');
      // The download directory goes in the finally below, before anyone reads this message.
      const undone = await undoRestoreTarget(target);
      const reason = error instanceof Error ? error.message : String(error);
      throw new RestoreFailedError(
        `could not restore ${entry.key} into ${target.dir}: ${reason}\n${undone}, the download directory was removed, and nothing in ${input.store.description} was changed`,
        { cause: error },
      );
    }
  } finally {
    await rm(downloadDir, { recursive: true, force: true });
  }
}

/**
 * Restores the chosen committed binary backup of a policy into `targetDir`.
 *
 * @throws WrongIdentityError before anything is written: the backup is encrypted and the
 *   downloader holds no identity of a recipient it was made for
 * @throws RunError before anything is written: running as root, a target that is not empty
 *   (or not a directory, or not the user's, or whose parent is missing), no usable work
 *   directory, no backup that matches the choice
 * @throws RestoreFailedError when the restore failed once started; the target is as it was
 * @throws StorageError when the store cannot be listed
 */
export async function restoreBinaryBackup(
  input: BinaryRestoreInput,
): Promise<BinaryRestoreOutcome> {
  const target = await checkPreconditions(input);
  const entry = await findBackup(input, 'binary', input.choice);
  // An encrypted backup without its identity is refused before the target is claimed.
  input.downloader.requireIdentity(entry);
  input.logger.info({ key: entry.key, targetDir: target.dir }, 'restoring the backup');
  await fill(input, entry, target);
  const previousMode = await tightenTargetMode(target);
  const configuration = await inspectRestoredConfiguration(target.dir);
  input.logger.info({ key: entry.key, targetDir: target.dir }, 'restored and verified');
  return {
    entry,
    targetDir: target.dir,
    created: target.existingMode === undefined,
    previousMode,
    configuration,
    storeDescription: input.store.description,
  };
}
