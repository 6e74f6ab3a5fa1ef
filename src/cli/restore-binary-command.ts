/**
 * `pgbackup restore --type binary`: a committed binary backup of a policy, from its bucket or
 * a local volume, restored into a data directory and checked, with what to do next printed on
 * stdout and the progress logged as JSON on stderr.
 */
import { dirname } from 'node:path';
import { pino } from 'pino';
import { locatePgTool } from '../postgres/index.js';
import {
  type BinaryRestoreOutcome,
  RestoreFailedError,
  restoreBinaryBackup,
} from '../runner/restore-binary.js';
import { majorOf } from '../runner/verify-restore.js';
import { createObjectDownloader } from '../storage/object-download.js';
import { openBackupSource } from './backup-source.js';
import type { CommandIo } from './command.js';
import { loadIdentityOption } from './identity-option.js';
import type { BinaryRestoreArguments } from './restore-arguments.js';
import { describeBinaryRestore, type ServerTools } from './restore-binary-report.js';
import { runPointInTimeRestore } from './restore-target-command.js';

async function serverToolsOf(
  outcome: BinaryRestoreOutcome,
  pgRoot: string | undefined,
): Promise<ServerTools> {
  const major = majorOf(outcome.entry.manifest);
  const postgres = await locatePgTool({ tool: 'postgres', major, root: pgRoot }).catch(
    () => undefined,
  );
  return { binDir: postgres === undefined ? undefined : dirname(postgres) };
}

/**
 * The plain (not point-in-time) binary restore the arguments ask for: the identity file read
 * first (a wrong one is refused before the bucket is listed), then the backup restored. Shared
 * by `pgbackup restore` and the Restore's Job (restore-pvc-job.ts).
 */
export async function restoreBinaryFromArguments(
  args: BinaryRestoreArguments,
): Promise<BinaryRestoreOutcome> {
  const identity = await loadIdentityOption(args.identityFile);
  const source = await openBackupSource(args.source, args.localDir);
  return restoreBinaryBackup({
    ...source,
    downloader: createObjectDownloader(source.store, identity),
    choice: args.choice,
    targetDir: args.targetDir,
    workDir: args.workDir,
    pgRoot: args.pgRoot,
    uid: process.getuid?.(),
    logger: pino({ base: { command: 'restore', policy: source.policy } }, pino.destination(2)),
  });
}

/** Restores a binary backup into `--target-dir`; returns the exit status. */
export async function runBinaryRestore(
  args: BinaryRestoreArguments,
  io: CommandIo,
): Promise<number> {
  if (args.recoveryTarget !== undefined) return runPointInTimeRestore(args, io);
  try {
    const outcome = await restoreBinaryFromArguments(args);
    io.stdout.write(describeBinaryRestore(outcome, await serverToolsOf(outcome, args.pgRoot)));
    return 0;
  } catch (error) {
    // Its message already says what failed and what was taken back.
    if (!(error instanceof RestoreFailedError)) throw error;
    io.stderr.write(`pgbackup restore: ${error.message}\n`);
    return 1;
  }
}
