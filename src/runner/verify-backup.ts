/**
 * The restore drill (DESIGN.md §5 "verify"): the newest committed binary backup of a policy is
 * downloaded and checked against its manifest, extracted, verified with `pg_verifybackup`,
 * started as a throwaway server (which replays the backup's WAL) and checked with
 * `pg_amcheck`; then the server is stopped and everything the drill wrote is removed, whatever
 * happened. The result is Passed or Failed with a message a person can act on.
 */
import { access, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { locatePgTool } from '../postgres/index.js';
import { startThrowawayServer } from '../postgres/throwaway-server.js';
import {
  type ArtifactStore,
  type BackupManifest,
  type CatalogEntry,
  policyKeyPrefix,
} from '../storage/index.js';
import type { ObjectDownloader } from '../storage/object-download.js';
import { newestBackupOf } from './backup-choice.js';
import { RunError } from './errors.js';
import { describeFailure } from './record-status.js';
import { describeCounts, findSuperuser, runAmcheck } from './verify-amcheck.js';
import { majorOf, restoreBackup } from './verify-restore.js';

/** The oldest major whose amcheck extension checks tables (verify_heapam), which pg_amcheck needs. */
const AMCHECK_MIN_MAJOR = 14;
/** Recovery replays only the WAL written during the backup; this bounds a stuck start. */
const DEFAULT_START_TIMEOUT_MS = 30 * 60_000;

/** What {@link verifyNewestBackup} needs. */
export interface VerifyInput {
  readonly namespace: string;
  readonly policy: string;
  /** `spec.storage.s3.prefix`. */
  readonly prefix: string;
  /** Lists the committed backups. */
  readonly store: ArtifactStore;
  readonly downloader: ObjectDownloader;
  /** A directory with room for the backup (compressed, then extracted); the drill works inside. */
  readonly workDir: string;
  readonly pgRoot: string | undefined;
  /** Roles to run pg_amcheck as, tried in order; the first superuser of the backup wins. */
  readonly roles: readonly string[];
  /** The user id the drill runs as (`process.getuid()`): PostgreSQL refuses root. */
  readonly uid: number | undefined;
  readonly logger: Logger;
  readonly clock: () => number;
  readonly startTimeoutMs?: number;
}

/** The drill's result for one backup. */
export interface VerifyOutcome {
  readonly key: string;
  readonly manifest: BackupManifest;
  readonly result: 'Passed' | 'Failed';
  readonly message: string;
  readonly finishedAtMs: number;
  /** How long the restore took; undefined when the drill failed before it was done. */
  readonly restoreMs?: number | undefined;
  /** The point-in-time drill: the instant recovery was to reach (RFC 3339, to the microsecond). */
  readonly target?: string | undefined;
  /** The point-in-time drill: the commit time of the last transaction recovery replayed. */
  readonly reached?: string | undefined;
}

/** Refuses root (PostgreSQL does) and a work directory that cannot be used. */
export async function checkPreconditions(
  input: Pick<VerifyInput, 'uid' | 'workDir'>,
): Promise<void> {
  if (input.uid === 0) {
    throw new RunError(
      'pgbackup verify runs as root, and PostgreSQL refuses to start as root: run it as an unprivileged user (the image runs as user 65532; on a host, e.g. `su postgres -c "pgbackup verify ..."`)',
    );
  }
  await access(input.workDir).catch((error: unknown) => {
    throw new RunError(
      `the work directory ${input.workDir} does not exist or cannot be used: create it (with room for the backup, compressed and extracted), or point --work-dir elsewhere`,
      { cause: error },
    );
  });
}

/**
 * The policy's newest committed backup of `type`, which a drill checks.
 *
 * @throws RunError when there is none yet
 */
export async function chooseNewestBackup(
  input: Pick<VerifyInput, 'namespace' | 'policy' | 'prefix' | 'store'>,
  type: 'binary' | 'logical',
): Promise<CatalogEntry> {
  const prefix = policyKeyPrefix({ ...input, type });
  const newest = newestBackupOf(await input.store.listBackups(prefix));
  if (newest === undefined) {
    throw new RunError(
      `no committed ${type} backup of BackupPolicy ${input.namespace}/${input.policy} under ${prefix} in ${input.store.description}: take one first (pgbackup run --type ${type}, or an on-demand Backup), then verify`,
    );
  }
  return newest;
}

async function checkWithServer(
  input: VerifyInput,
  entry: CatalogEntry,
  dirs: { data: string; run: string },
  onRecovered: () => void,
): Promise<string> {
  const major = majorOf(entry.manifest);
  const root = input.pgRoot;
  const postgres = await locatePgTool({ tool: 'postgres', major, root });
  input.logger.info({ key: entry.key }, 'starting a throwaway server on the restored backup');
  const server = await startThrowawayServer({
    postgres,
    dataDir: dirs.data,
    runDir: dirs.run,
    startTimeoutMs: input.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS,
  });
  onRecovered();
  try {
    if (major < AMCHECK_MIN_MAJOR) {
      return `pg_amcheck was not run: PostgreSQL ${major}'s amcheck cannot check tables (it needs ${AMCHECK_MIN_MAJOR} or newer)`;
    }
    const amcheck = await locatePgTool({ tool: 'pg_amcheck', major, orNewer: true, root });
    const role = await findSuperuser(server, input.roles);
    input.logger.info({ role }, 'running pg_amcheck --all --install-missing');
    const counts = await runAmcheck(amcheck, server, role);
    return `pg_amcheck checked ${describeCounts(counts)} and found no corruption`;
  } finally {
    await server.stop();
  }
}

async function drill(
  input: VerifyInput,
  entry: CatalogEntry,
  workDir: string,
): Promise<{ message: string; restoreMs: number }> {
  const dirs = {
    download: join(workDir, 'download'),
    data: join(workDir, 'data'),
    run: join(workDir, 'run'),
  };
  await mkdir(dirs.run, { mode: 0o700 });
  await mkdir(dirs.data, { mode: 0o700 });
  input.logger.info({ key: entry.key }, 'downloading and checking the backup');
  // The restore: download, extraction, pg_verifybackup and recovery, until connections are accepted.
  const started = input.clock();
  let restoreMs = 0;
  await restoreBackup({
    entry,
    downloader: input.downloader,
    downloadDir: dirs.download,
    dataDir: dirs.data,
    pgRoot: input.pgRoot,
  });
  const amcheck = await checkWithServer(input, entry, dirs, () => {
    restoreMs = input.clock() - started;
  });
  const { manifest } = entry;
  const sizeBytes = manifest.objects.reduce((sum, object) => sum + object.sizeBytes, 0);
  const message = `the ${manifest.server.version.split(' ')[0]} backup committed at ${manifest.committedAt} (${sizeBytes} bytes) restores: its objects match the manifest, pg_verifybackup passed, the restored server recovered and accepted connections, and ${amcheck}`;
  return { message, restoreMs };
}

/**
 * Runs the drill on the policy's newest committed binary backup.
 *
 * @returns Passed, or Failed with what was found (a damaged object, a failed check, a server
 *   that does not start)
 * @throws RunError when the drill cannot start: running as root, no work directory, no backup
 *   yet; StorageError when the bucket cannot be listed
 */
export async function verifyNewestBackup(input: VerifyInput): Promise<VerifyOutcome> {
  await checkPreconditions(input);
  const entry = await chooseNewestBackup(input, 'binary');
  return drillOutcome(input, entry, async (workDir) => ({
    passed: true,
    ...(await drill(input, entry, workDir)),
  }));
}

/**
 * Runs a drill of `entry` in a fresh directory inside the work directory, which is removed
 * afterwards whatever happened; an error of the drill is a Failed outcome with its message.
 */
export async function drillOutcome(
  input: Pick<VerifyInput, 'workDir' | 'logger' | 'clock'>,
  entry: CatalogEntry,
  run: (workDir: string) => Promise<{ passed: boolean; message: string; restoreMs: number }>,
): Promise<VerifyOutcome> {
  const workDir = await mkdtemp(join(input.workDir, 'pgbackup-verify-'));
  const outcome = (
    result: 'Passed' | 'Failed',
    message: string,
    restoreMs?: number,
  ): VerifyOutcome => ({
    key: entry.key,
    manifest: entry.manifest,
    result,
    message,
    finishedAtMs: input.clock(),
    restoreMs,
  });
  try {
    const { passed, message, restoreMs } = await run(workDir);
    return outcome(passed ? 'Passed' : 'Failed', message, restoreMs);
  } catch (error) {
    input.logger.error({ err: error, key: entry.key }, 'the restore drill failed');
    return outcome('Failed', describeFailure(error));
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }
}
