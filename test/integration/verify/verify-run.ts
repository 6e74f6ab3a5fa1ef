/**
 * `pgbackup verify` as the tests run it: as the `postgres` OS user when the tests run as root
 * (PostgreSQL refuses root, as the image's user 65532 would not be), with a work directory of
 * its own that the test can look into afterwards.
 */
import { chown, mkdtemp, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { VERIFY_WORK_MOUNT_PATH } from '../../../src/render/render-cron-jobs.js';
import { postgresRunAs } from '../../harness/env/postgres.js';
import { type RunOutcome, runEnvironment, runPgbackupAs } from '../../harness/pgbackup-run.js';

/** A drill's outcome, and what it left in its work directory. */
export interface VerifyRun extends RunOutcome {
  readonly leftInWorkDir: string[];
}

/** Makes the drill's user (postgres, when the tests run as root) the owner of the paths. */
async function chownToDrillUser(...paths: string[]): Promise<void> {
  const runAs = postgresRunAs();
  if (runAs === undefined) return;
  for (const path of paths) await chown(path, runAs.uid, runAs.gid);
}

/** Gives a file (a kubeconfig) and its directory to the drill's user, who must read them. */
export function giveToDrillUser(file: string): Promise<void> {
  return chownToDrillUser(dirname(file), file);
}

/** A fresh work directory the drill's user owns. */
export async function verifyWorkDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'pgbackup-verify-test-'));
  await chownToDrillUser(dir);
  return dir;
}

/**
 * Runs `pgbackup verify ARGS` as the postgres user (or as root, if asked) with a fresh work
 * directory: the one the Job mounts (the rendered `--work-dir`) stands for it, as the executor
 * maps a pod's volumes; without `--work-dir` it is added.
 */
export async function runVerify(
  args: readonly string[],
  options: { env?: NodeJS.ProcessEnv; asRoot?: boolean } = {},
): Promise<VerifyRun> {
  const workDir = await verifyWorkDir();
  const runAs = options.asRoot === true ? undefined : postgresRunAs();
  const env = { ...(options.env ?? runEnvironment()), HOME: workDir };
  const argv = args.includes('--work-dir')
    ? args.map((arg) => (arg === VERIFY_WORK_MOUNT_PATH ? workDir : arg))
    : [...args, '--work-dir', workDir];
  const outcome = await runPgbackupAs(['verify', ...argv], env, runAs);
  return { ...outcome, leftInWorkDir: await readdir(workDir) };
}
