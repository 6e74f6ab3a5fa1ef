/**
 * A point-in-time restore into a claim runs its recovery inside the Job: the image that will
 * start the claim's data directory later (CloudNativePG, Bitnami, ...) has no pgbackup for
 * `restore_command`. The backup's own major of `postgres` (the drill image carries it) starts
 * on the restored directory with no TCP listener, replays the bucket's WAL to the target,
 * promotes, and is stopped cleanly; then the recovery settings pgbackup wrote are taken out of
 * `postgresql.auto.conf` and the directory is flushed to disk (`initdb --sync-only`, since the
 * throwaway server ran without fsync). What is left is a consistent, promoted data directory.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { locatePgTool } from '../postgres/index.js';
import { startThrowawayServer } from '../postgres/throwaway-server.js';
import { describeExit, lastLines } from '../postgres/tool-process.js';
import { RunError } from '../runner/errors.js';

/** Where recovery ended, read from the server's log. */
export interface RecoveryReached {
  /** `redo done at X/Y`: the last WAL record replayed. */
  readonly lsn?: string;
  /** `last completed transaction was at log time ...`, as the server wrote it. */
  readonly lastTransactionTime?: string;
  /** `selected new timeline ID: N`: the timeline the promoted server starts. */
  readonly timeline?: number;
}

/** Recovery may take as long as the Job may (its deadline ends it first). */
const RECOVERY_TIMEOUT_MS = 24 * 3600 * 1000;

/** The lines `pgbackup restore` appended for recovery (recovery-target.ts). */
const RECOVERY_SETTING = /^\s*(restore_command|recovery_target\w*)\s*=/;
const RECOVERY_COMMENT = /^# point-in-time recovery written by pgbackup restore/;

/** Reads where recovery ended from the server's log (English messages; absent if not found). */
export function parseRecoveryLog(log: string): RecoveryReached {
  const lsn = /redo done at ([0-9A-F]+\/[0-9A-F]+)/.exec(log)?.[1];
  const time = /last completed transaction was at log time (.+)$/m.exec(log)?.[1]?.trim();
  const timeline = /selected new timeline ID: (\d+)/.exec(log)?.[1];
  return {
    ...(lsn === undefined ? {} : { lsn }),
    ...(time === undefined ? {} : { lastTransactionTime: time }),
    ...(timeline === undefined ? {} : { timeline: Number(timeline) }),
  };
}

/** `postgresql.auto.conf` without the recovery settings pgbackup restore appended. */
export function withoutRecoverySettings(text: string): string {
  return text
    .split('\n')
    .filter((line) => !RECOVERY_SETTING.test(line) && !RECOVERY_COMMENT.test(line))
    .join('\n')
    .replace(/\n{3,}/g, '\n\n');
}

async function syncDataDir(initdb: string, dataDir: string): Promise<void> {
  const result = await new Promise<{ exit?: string; text: string }>((resolve) => {
    const child = spawn(initdb, ['--sync-only', `--pgdata=${dataDir}`], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let text = '';
    const keep = (chunk: Buffer) => {
      text = (text + chunk.toString('utf8')).slice(-8192);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    child.on('error', (error) => resolve({ exit: error.message, text }));
    child.on('close', (code, signal) =>
      resolve(code === 0 ? { text } : { exit: describeExit(code, signal), text }),
    );
  });
  if (result.exit !== undefined) {
    throw new RunError(
      `recovery ended, but initdb --sync-only could not flush ${dataDir} to disk (${result.exit}):\n${lastLines(result.text, 10)}`,
    );
  }
}

/**
 * Runs the restored directory's recovery to its end (the target, then promotion) and leaves
 * it stopped, promoted and without pgbackup's recovery settings.
 *
 * @throws PostgresError quoting the server's log when recovery stops short (a target past
 *   the WAL, a missing segment) or the server does not start
 */
export async function finishRecovery(input: {
  readonly dataDir: string;
  readonly major: number;
  readonly pgRoot: string | undefined;
}): Promise<RecoveryReached> {
  const { dataDir, major, pgRoot } = input;
  const postgres = await locatePgTool({ tool: 'postgres', major, root: pgRoot });
  const initdb = await locatePgTool({ tool: 'initdb', major, root: pgRoot });
  const runDir = await mkdtemp(join(tmpdir(), 'pgbackup-recovery-'));
  try {
    // It accepts connections only once recovery has ended and it was promoted (hot_standby off).
    const server = await startThrowawayServer({
      postgres,
      dataDir,
      runDir,
      startTimeoutMs: RECOVERY_TIMEOUT_MS,
    });
    await server.stop();
    const log = await readFile(server.logFile, 'utf8');
    if (!/database system is shut down/.test(log)) {
      throw new RunError(
        `the restored server did not shut down cleanly after recovery; its log ends:\n${lastLines(log, 15)}`,
      );
    }
    const autoConf = join(dataDir, 'postgresql.auto.conf');
    const text = await readFile(autoConf, 'utf8');
    await writeFile(autoConf, withoutRecoverySettings(text), { mode: 0o600 });
    await syncDataDir(initdb, dataDir);
    return parseRecoveryLog(log);
  } finally {
    await rm(runDir, { recursive: true, force: true });
  }
}
