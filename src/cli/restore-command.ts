/**
 * `pgbackup restore`: a committed backup of a policy, binary into a data directory or logical
 * into a new database (DESIGN.md §5), found in the bucket alone (§3) or in a local volume.
 */
import type { Command } from './command.js';
import { parseRestoreArguments, RESTORE_USAGE } from './restore-arguments.js';
import { runBinaryRestore } from './restore-binary-command.js';
import { runLogicalRestore } from './restore-logical-command.js';
import { runPvcRestore } from './restore-pvc-command.js';
import { runRestoreJob } from './restore-pvc-job.js';

/** Runs `pgbackup restore ...`; see {@link RESTORE_USAGE}. */
export const runRestoreCommand: Command = async (argv, io) => {
  const args = parseRestoreArguments(argv);
  if (args === 'help') {
    io.stdout.write(RESTORE_USAGE);
    return 0;
  }
  if (args.type === 'to-pvc') return runPvcRestore(args, io);
  if (args.type === 'binary' && args.forRestore !== undefined) return runRestoreJob(args, io);
  return args.type === 'logical' ? runLogicalRestore(args, io) : runBinaryRestore(args, io);
};
