/** The contract every `pgbackup` subcommand implements. */

/** Where a command writes; passed in so tests can capture output without mocks. */
export interface CommandIo {
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
}

/** A subcommand: its arguments (after the command name) in, an exit status out. */
export type Command = (argv: readonly string[], io: CommandIo) => Promise<number>;

/** Wrong arguments or an invalid input file: the message is printed and the exit status is 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}
