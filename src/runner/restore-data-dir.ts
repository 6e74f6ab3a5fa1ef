/**
 * The data directory a binary restore fills: one that does not exist yet (created, mode 0700,
 * in an existing parent) or an empty directory. A non-empty one is refused before anything is
 * downloaded and left as it is; a failed restore takes back exactly what it put there, and
 * never anything that was there before.
 */
import { access, chmod, constants, mkdir, readdir, rm, stat } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { RunError } from './errors.js';

/** A target that passed {@link inspectRestoreTarget}. */
export interface RestoreTarget {
  /** Absolute. */
  readonly dir: string;
  /** Its mode when it is an existing empty directory; `undefined` when it does not exist yet. */
  readonly existingMode: number | undefined;
}

/** PostgreSQL refuses a data directory that its group may write or others may read. */
const MODE_BITS_POSTGRES_REFUSES = 0o027;

function errorCode(error: unknown): string | undefined {
  return error instanceof Error && 'code' in error ? String(error.code) : undefined;
}

async function statOrUndefined(path: string) {
  try {
    return await stat(path);
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return undefined;
    throw new RunError(`cannot look at ${path}: ${(error as Error).message}`, { cause: error });
  }
}

/** Whether the user running the restore may create entries in the directory `dir`. */
export async function isWritableDir(dir: string): Promise<boolean> {
  return access(dir, constants.W_OK | constants.X_OK).then(
    () => true,
    () => false,
  );
}

async function inspectNewTarget(dir: string): Promise<RestoreTarget> {
  const parent = dirname(dir);
  const parentStats = await statOrUndefined(parent);
  if (parentStats === undefined || !parentStats.isDirectory()) {
    throw new RunError(
      `the target directory ${dir} cannot be created: its parent ${parent} does not exist or is not a directory. Create the parent first (restore creates only the last directory), or give another --target-dir`,
    );
  }
  if (!(await isWritableDir(parent))) {
    throw new RunError(
      `the target directory ${dir} cannot be created: its parent ${parent} is not writable by the user running the restore. Run the restore as a user who may write there (the one that will run the server), or create ${dir} empty and give it to that user`,
    );
  }
  return { dir, existingMode: undefined };
}

/**
 * Checks that `dir` can take a restore, changing nothing.
 *
 * @param uid the user the restore runs as: an existing directory must be theirs, since
 *   PostgreSQL runs as the owner of its data directory
 * @throws RunError naming the directory, what is wrong and the fix: it is not empty, not a
 *   directory, not the user's, or its parent is missing
 */
export async function inspectRestoreTarget(
  dir: string,
  uid: number | undefined,
): Promise<RestoreTarget> {
  const stats = await statOrUndefined(dir);
  if (stats === undefined) return inspectNewTarget(dir);
  if (!stats.isDirectory()) {
    throw new RunError(
      `the target directory ${dir} exists and is not a directory: give a --target-dir that does not exist yet, or an empty directory`,
    );
  }
  const entries = await readdir(dir);
  if (entries.length > 0) {
    const shown = entries.sort().slice(0, 3).join(', ');
    const more = entries.length > 3 ? `, … (${entries.length} entries)` : '';
    throw new RunError(
      `the target directory ${dir} is not empty (it holds ${shown}${more}); restore never writes over files: give a --target-dir that does not exist yet, or empty this one first if nothing in it is needed. Nothing was downloaded and ${dir} was not touched`,
    );
  }
  if (uid !== undefined && stats.uid !== uid) {
    throw new RunError(
      `the target directory ${dir} belongs to user id ${stats.uid}, not to the user running the restore (${uid}); PostgreSQL runs as the owner of its data directory: run the restore as that user, or give a --target-dir that does not exist yet`,
    );
  }
  return { dir, existingMode: stats.mode & 0o7777 };
}

/** Whether `path` is `dir` or lies inside it (both absolute). */
export function isInside(path: string, dir: string): boolean {
  const within = relative(dir, path);
  return within === '' || (!within.startsWith('..') && !within.startsWith('/'));
}

/**
 * Creates the target if it did not exist. Called after the backup was chosen, so a restore
 * that finds no backup leaves no directory behind.
 *
 * @throws RunError when a directory of that name appeared since it was inspected
 */
export async function claimRestoreTarget(target: RestoreTarget): Promise<void> {
  if (target.existingMode !== undefined) return;
  try {
    await mkdir(target.dir, { mode: 0o700 });
  } catch (error) {
    throw new RunError(
      `could not create the target directory ${target.dir}: ${(error as Error).message}`,
      { cause: error },
    );
  }
}

/**
 * Takes back what a failed restore put in the target: removes the directory when the restore
 * created it, else empties it (it was empty before).
 *
 * @returns what was done, for the message
 */
export async function undoRestoreTarget(target: RestoreTarget): Promise<string> {
  if (target.existingMode === undefined) {
    await rm(target.dir, { recursive: true, force: true });
    return `${target.dir} was removed again (the restore had created it)`;
  }
  for (const entry of await readdir(target.dir)) {
    await rm(join(target.dir, entry), { recursive: true, force: true });
  }
  return `${target.dir} was emptied again (it was empty before)`;
}

/**
 * Gives an existing target the mode PostgreSQL needs (0700) when its group may write it or
 * others may read it; a created one has it already.
 *
 * @returns the mode it had, when it was changed
 */
export async function tightenTargetMode(target: RestoreTarget): Promise<number | undefined> {
  const mode = target.existingMode;
  if (mode === undefined || (mode & MODE_BITS_POSTGRES_REFUSES) === 0) return undefined;
  await chmod(target.dir, 0o700);
  return mode;
}
