/**
 * `pgbackup restore` as the tests run it: a subprocess, as the `postgres` OS user when the
 * tests run as root (PostgreSQL runs as the owner of the restored directory), with a parent
 * directory of its own for the target and the download, which the test looks into afterwards.
 */
import { chmod, chown, mkdir, mkdtemp, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { postgresRunAs } from '../../harness/env/postgres.js';
import { type RunOutcome, runEnvironment, runPgbackupAs } from '../../harness/pgbackup-run.js';
import type { TestPolicy } from '../binary/policy-file.js';

/** A restore's outcome, and what its parent directory holds afterwards. */
export interface RestoreRun extends RunOutcome {
  /** The target's parent (the default work directory), listed after the run. */
  readonly leftInParent: string[];
}

async function giveToRestoreUser(path: string): Promise<void> {
  const runAs = postgresRunAs();
  if (runAs !== undefined) await chown(path, runAs.uid, runAs.gid);
}

/** A fresh directory the restore's user owns, to hold a target. */
export async function restoreParentDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'pgbackup-restore-test-'));
  await giveToRestoreUser(dir);
  return dir;
}

/** Creates a directory (an empty target) the restore's user owns, with `mode`. */
export async function makeRestoreUserDir(path: string, mode: number): Promise<void> {
  await mkdir(path);
  // mkdir's mode is masked by the umask; the test wants this one exactly.
  await chmod(path, mode);
  await giveToRestoreUser(path);
}

/** Lets the restore's user read the policy file and the local copy beside it. */
export async function shareWithRestoreUser(policy: TestPolicy): Promise<void> {
  await chmod(dirname(policy.file), 0o755);
}

/**
 * Runs `pgbackup restore ARGS` as the postgres user (or as root, if asked); `parent` is the
 * target's parent directory, listed afterwards.
 */
export async function runRestore(
  args: readonly string[],
  parent: string,
  options: { asRoot?: boolean } = {},
): Promise<RestoreRun> {
  const runAs = options.asRoot === true ? undefined : postgresRunAs();
  const env = { ...runEnvironment(), HOME: parent };
  const outcome = await runPgbackupAs(['restore', ...args], env, runAs);
  return { ...outcome, leftInParent: (await readdir(parent)).sort() };
}
