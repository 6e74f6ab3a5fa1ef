/** `pgbackup list` — placeholder, being written. */
import type { Command } from './command.js';

/** Runs `pgbackup list ...`. */
export const runListCommand: Command = async (_argv, io) => {
  io.stderr.write('pgbackup list: not built yet\n');
  return 1;
};
