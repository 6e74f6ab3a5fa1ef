/** `pgbackup restore` — placeholder, being written. */
import type { Command } from './command.js';
import { parseRestoreArguments, RESTORE_USAGE } from './restore-arguments.js';
import { runLogicalRestore } from './restore-logical-command.js';

/** Runs `pgbackup restore ...`; see {@link RESTORE_USAGE}. */
export const runRestoreCommand: Command = async (argv, io) => {
  const args = parseRestoreArguments(argv);
  if (args === 'help') {
    io.stdout.write(RESTORE_USAGE);
    return 0;
  }
  if (args.type === 'logical') return runLogicalRestore(args, io);
  io.stderr.write('pgbackup restore --type binary: not built yet\n');
  return 1;
};
