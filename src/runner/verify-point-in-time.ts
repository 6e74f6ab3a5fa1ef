/**
 * The point-in-time drill (`pgbackup verify --type point-in-time`, DESIGN.md §5 "verify"):
 * the newest binary backup restored with the point-in-time restore to an instant that needs
 * the bucket's WAL beyond the backup's end, a throwaway server started on it (Unix socket
 * only) that fetches that WAL with `pgbackup wal-fetch` and replays it to the instant, a check
 * that recovery stopped exactly there, and `pg_amcheck` on the recovered server
 * (`pg_verifybackup` already ran on the restored backup).
 *
 * The target is chosen from the archived WAL (see {@link DrillPlan}): two consecutive
 * transaction ends `last` and `next` (commit or abort records, in WAL order) after the
 * backup's end, with `last` earlier than `next`. The target is `last`'s commit time, and
 * `recovery_target_inclusive` is on, so recovery must replay `last` and stop before `next`.
 * Reaching it is checked exactly, twice: `pg_last_xact_replay_timestamp()` of the promoted
 * server equals `last`'s time to the microsecond, and the server's log says it stopped
 * before the transaction end committed at `next`'s time.
 *
 * The restore itself lives in src/restore, which the runner may not import (it imports the
 * runner); the CLI hands it in as a {@link PointInTimeRestorer}.
 */
import { appendFile, mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { BackupPolicy } from '../api/index.js';
import { PostgresError } from '../postgres/errors.js';
import { locatePgTool } from '../postgres/index.js';
import { startThrowawayServer, type ThrowawayServer } from '../postgres/throwaway-server.js';
import type { ArtifactStore, CatalogEntry, WalStore } from '../storage/index.js';
import type { ObjectDownloader } from '../storage/object-download.js';
import { describeCounts, findSuperuser, runAmcheck } from './verify-amcheck.js';
import {
  checkPreconditions,
  drillOutcome,
  type VerifyInput,
  type VerifyOutcome,
} from './verify-backup.js';
import { VerificationError } from './verify-errors.js';
import { majorOf } from './verify-restore.js';

/** Recovery replays the WAL since the backup: as long as a binary drill's start allows. */
const DEFAULT_START_TIMEOUT_MS = 30 * 60_000;
/** How many lines of the server's log name what recovery fetched and where it stopped. */
const LOG_LINES_QUOTED = 6;

/** A transaction's end (commit or abort record) in the archived WAL. */
export interface TransactionEnd {
  /** Its commit timestamp, microseconds since the epoch. */
  readonly micros: number;
  /** Where its record starts. */
  readonly lsn: bigint;
}

/** What the drill restores: the backup, and the instant recovery must reach. */
export type DrillPlan =
  | {
      readonly kind: 'ready';
      readonly entry: CatalogEntry;
      /** The target's transaction: recovery replays it (its time is the target). */
      readonly last: TransactionEnd;
      /** The transaction end after it: recovery stops before it. */
      readonly next: TransactionEnd;
    }
  | {
      /** The archived WAL cannot take the backup to an instant after its end (a missing segment). */
      readonly kind: 'unusable';
      readonly entry: CatalogEntry;
      readonly message: string;
    };

/** The point-in-time restore the drill uses (src/restore, wired by the CLI). */
export interface PointInTimeRestorer {
  /**
   * Chooses the newest binary backup and the target, reading the bucket's WAL listing and
   * the last segments (`pg_waldump`); downloads nothing of the backup.
   *
   * @throws RunError when the drill cannot run: no backup, no two transactions archived after
   *   its end
   */
  plan(workDir: string): Promise<DrillPlan>;
  /**
   * Restores the plan's backup into `dataDir` (absent) set up to recover to `last`'s time,
   * as `pgbackup restore --target-time` does (pg_verifybackup included).
   *
   * @returns the key of the backup it restored
   */
  restore(
    plan: Extract<DrillPlan, { kind: 'ready' }>,
    dataDir: string,
    workDir: string,
  ): Promise<string>;
}

/** The policy's bucket, as the drill's restore reads it. */
export interface PointInTimeBucket {
  readonly namespace: string;
  readonly policy: string;
  readonly policyObject: BackupPolicy;
  /** `spec.storage.s3.prefix`. */
  readonly prefix: string;
  readonly store: ArtifactStore;
  readonly walStore: WalStore;
  readonly downloader: ObjectDownloader;
  /** The keys the bucket was reached with; wal-fetch gets them in a 0600 file. */
  readonly keys:
    | {
        readonly accessKeyId: string;
        readonly secretAccessKey: string;
        readonly sessionToken?: string | undefined;
      }
    | undefined;
}

/** Makes the drill's restore for a policy's bucket (the CLI wires src/restore). */
export type PointInTimeRestorerFactory = (bucket: PointInTimeBucket) => PointInTimeRestorer;

/** What {@link verifyPointInTime} needs. */
export interface PointInTimeDrillInput
  extends Pick<
    VerifyInput,
    'workDir' | 'pgRoot' | 'roles' | 'uid' | 'logger' | 'clock' | 'startTimeoutMs'
  > {
  readonly restorer: PointInTimeRestorer;
}

/** An instant in microseconds as RFC 3339 in UTC, to the microsecond: `2026-12-03T14:40:01.123456Z`. */
export function isoMicros(micros: number): string {
  const seconds = Math.floor(micros / 1_000_000);
  const fraction = String(micros - seconds * 1_000_000).padStart(6, '0');
  return `${new Date(seconds * 1000).toISOString().slice(0, 19)}.${fraction}Z`;
}

/** Where recovery stopped, as the server's log says it (`recovery stopping before commit ...`). */
export interface RecoveryStop {
  readonly kind: 'commit' | 'abort';
  readonly xid: string;
  readonly micros: number;
}

const STOP_LINE =
  /recovery stopping before (commit|abort) of transaction (\d+), time (\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2})(?:\.(\d{1,6}))?\+00\b/;

/**
 * The stop recovery logged, or undefined. The server runs with `timezone = 'UTC'` (the drill
 * sets it), so the time reads `2026-12-03 14:40:01.123456+00`.
 */
export function parseRecoveryStop(log: string): RecoveryStop | undefined {
  let found: RecoveryStop | undefined;
  for (const line of log.split('\n')) {
    const match = STOP_LINE.exec(line);
    if (match === null) continue;
    const [, kind, xid = '', date, time, fraction = ''] = match;
    const micros = Date.parse(`${date}T${time}Z`) * 1000 + Number(fraction.padEnd(6, '0'));
    found = { kind: kind === 'abort' ? 'abort' : 'commit', xid, micros };
  }
  return found;
}

/**
 * The lines of the server's log that say why recovery failed: wal-fetch's failures (a damaged
 * object), the newest WAL segment it did not find (recovery asks for files that do not exist
 * as a matter of course, history files among them: only a segment's absence is quoted), and
 * the server's FATAL lines.
 */
export function recoveryFailureLines(log: string): string[] {
  const lines = log.split('\n');
  const missing = lines.filter(
    (line) =>
      /pgbackup wal-fetch: .*\b[0-9A-F]{24}\b(?!\.history)/.test(line) &&
      !/could not fetch|the newest WAL in the bucket/.test(line),
  );
  // The drill's own probes while recovery runs are refused (FATAL, "not accepting connections"): not the cause.
  const failed = lines.filter(
    (line) =>
      /pgbackup wal-fetch: could not fetch|FATAL:/.test(line) &&
      !/not accepting connections|is starting up/.test(line),
  );
  return [...missing.slice(-1), ...failed].slice(-LOG_LINES_QUOTED);
}

/**
 * Whether recovery stopped at the plan's target: the last transaction replayed is `last` and
 * the stop is before `next`.
 *
 * @returns a message saying how it missed, or undefined when it is exact
 */
export function checkReached(
  plan: { readonly last: TransactionEnd; readonly next: TransactionEnd },
  reachedMicros: number | undefined,
  stop: RecoveryStop | undefined,
): string | undefined {
  const target = isoMicros(plan.last.micros);
  if (stop === undefined) {
    return `the restored server's log does not say where recovery stopped (no "recovery stopping before commit" line): recovery to ${target} did not stop at a transaction after it. Restore to it by hand (pgbackup restore --target-time ${target}) and read the server's log`;
  }
  if (reachedMicros !== plan.last.micros || stop.micros !== plan.next.micros) {
    const reached = reachedMicros === undefined ? 'no transaction' : isoMicros(reachedMicros);
    return `recovery to ${target} stopped elsewhere: the last transaction replayed committed at ${reached} and recovery stopped before the ${stop.kind} of transaction ${stop.xid} at ${isoMicros(stop.micros)}, where the archived WAL has the target's transaction at ${target} followed by one at ${isoMicros(plan.next.micros)}. Run the drill again (transactions committing at the same moment can be archived out of time order); if it misses again, restore to ${target} by hand (pgbackup restore --target-time) and compare`;
  }
  return undefined;
}

async function readLog(server: { readonly logFile: string }): Promise<string> {
  return readFile(server.logFile, 'utf8').catch(() => '');
}

async function startRecovered(
  input: PointInTimeDrillInput,
  entry: CatalogEntry,
  dirs: { data: string; run: string },
): Promise<ThrowawayServer> {
  const postgres = await locatePgTool({
    tool: 'postgres',
    major: majorOf(entry.manifest),
    root: input.pgRoot,
  });
  try {
    return await startThrowawayServer({
      postgres,
      dataDir: dirs.data,
      runDir: dirs.run,
      startTimeoutMs: input.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS,
    });
  } catch (error) {
    if (!(error instanceof PostgresError)) throw error;
    const lines = recoveryFailureLines(await readLog({ logFile: join(dirs.run, 'postgres.log') }));
    if (lines.length === 0) throw error;
    throw new VerificationError(
      `recovery from the bucket's WAL failed; the restored server's log says:\n${lines.join('\n')}\nCheck the archived WAL (pgbackup wal-status); the bucket was not changed`,
    );
  }
}

async function replayedMicros(server: ThrowawayServer, role: string): Promise<number | undefined> {
  const client = server.client(role, 'template1');
  await client.connect();
  try {
    const result = await client.query<{ recovering: boolean; micros: string | null }>(
      'SELECT pg_is_in_recovery() AS recovering, (extract(epoch FROM pg_last_xact_replay_timestamp()) * 1000000)::bigint::text AS micros',
    );
    const row = result.rows[0];
    if (row?.recovering !== false) {
      throw new VerificationError(
        'the restored server is still in recovery after start-up: it was not promoted at the target',
      );
    }
    return row.micros === null ? undefined : Number(row.micros);
  } finally {
    await client.end().catch(() => undefined);
  }
}

interface DrillRun {
  passed: boolean;
  message: string;
  restoreMs: number;
  reachedMicros?: number | undefined;
}

async function drill(
  input: PointInTimeDrillInput,
  plan: Extract<DrillPlan, { kind: 'ready' }>,
  workDir: string,
): Promise<DrillRun> {
  const { entry } = plan;
  const dirs = { data: join(workDir, 'data'), run: join(workDir, 'run') };
  await mkdir(dirs.run, { mode: 0o700 });
  const target = isoMicros(plan.last.micros);
  input.logger.info({ key: entry.key, target }, 'restoring to a point in time');
  // The restore: download, extraction, pg_verifybackup, WAL replay to the target and promotion.
  const started = input.clock();
  const restored = await input.restorer.restore(plan, dirs.data, workDir);
  if (restored !== entry.key) {
    throw new VerificationError(
      `the point-in-time restore to ${target} chose ${restored}, not ${entry.key}, the backup the drill planned from: a backup was committed meanwhile; run the drill again`,
    );
  }
  // The stop line's time is printed in the server's time zone: UTC, as the drill parses it.
  await appendFile(
    join(dirs.data, 'postgresql.auto.conf'),
    "timezone = 'UTC'\nlog_timezone = 'UTC'\n",
  );
  const server = await startRecovered(input, entry, dirs);
  const restoreMs = input.clock() - started;
  input.logger.info({ key: entry.key, target, restoreMs }, 'recovered to the target and promoted');
  try {
    const role = await findSuperuser(server, input.roles);
    const reachedMicros = await replayedMicros(server, role);
    const stop = parseRecoveryStop(await readLog(server));
    const missed = checkReached(plan, reachedMicros, stop);
    if (missed !== undefined) return { passed: false, message: missed, restoreMs, reachedMicros };
    const amcheck = await locatePgTool({
      tool: 'pg_amcheck',
      major: majorOf(entry.manifest),
      orNewer: true,
      root: input.pgRoot,
    });
    input.logger.info({ role }, 'running pg_amcheck --all --install-missing');
    const counts = await runAmcheck(amcheck, server, role);
    const message = `the ${entry.manifest.server.version.split(' ')[0]} backup committed at ${entry.manifest.committedAt} restores to ${target}: its objects match the manifest, pg_verifybackup passed, recovery fetched the bucket's WAL, replayed the transaction committed at ${target} and stopped before the ${stop?.kind} of transaction ${stop?.xid} at ${isoMicros(plan.next.micros)}, the next one archived; pg_amcheck checked ${describeCounts(counts)} of the recovered server and found no corruption`;
    return { passed: true, message, restoreMs, reachedMicros };
  } finally {
    await server.stop();
  }
}

/**
 * Runs the point-in-time drill on the policy's newest binary backup.
 *
 * @returns Passed, or Failed with what was found: WAL missing from the bucket after the
 *   backup (named before anything is downloaded), a damaged WAL object or one recovery could
 *   not fetch (from the server's log), recovery stopping anywhere but the target, corruption
 * @throws RunError when the drill cannot run (running as root, no work directory, no backup,
 *   no two transactions archived after the backup's end)
 */
export async function verifyPointInTime(input: PointInTimeDrillInput): Promise<VerifyOutcome> {
  await checkPreconditions(input);
  const plan = await input.restorer.plan(input.workDir);
  if (plan.kind === 'unusable') {
    return drillOutcome(input, plan.entry, () =>
      Promise.reject(new VerificationError(plan.message)),
    );
  }
  let reachedMicros: number | undefined;
  const outcome = await drillOutcome(input, plan.entry, async (workDir) => {
    const run = await drill(input, plan, workDir);
    reachedMicros = run.reachedMicros;
    return run;
  });
  return {
    ...outcome,
    target: isoMicros(plan.last.micros),
    ...(reachedMicros === undefined ? {} : { reached: isoMicros(reachedMicros) }),
  };
}
