/** `pgbackup restore --type logical` — placeholder, being written. */
import type { CommandIo } from './command.js';
import type { LogicalRestoreArguments } from './restore-arguments.js';

/** Restores one database of a logical backup; returns the exit status. */
export async function runLogicalRestore(
  _args: LogicalRestoreArguments,
  io: CommandIo,
): Promise<number> {
  io.stderr.write('pgbackup restore --type logical: not built yet\n');
  return 1;
}
