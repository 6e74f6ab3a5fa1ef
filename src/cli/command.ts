/** The contract every `pgbackup` subcommand implements. */
import { type ParseArgsConfig, parseArgs } from 'node:util';

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

/** A {@link UsageError} whose message ends with the command's usage text. */
export function usageError(message: string, usage: string, options?: ErrorOptions): UsageError {
  return new UsageError(`${message}\n\n${usage.trimEnd()}`, options);
}

/**
 * Parses a command's options strictly (no positionals, no unknown options); a wrong argument
 * becomes a {@link UsageError} that ends with the command's usage text.
 */
export function parseOptions<T extends NonNullable<ParseArgsConfig['options']>>(
  argv: readonly string[],
  options: T,
  usage: string,
) {
  try {
    return parseArgs({ args: [...argv], options, strict: true, allowPositionals: false }).values;
  } catch (error) {
    // parseArgs reports wrong arguments as TypeErrors with an ERR_PARSE_ARGS_* code.
    const message = error instanceof Error ? error.message : String(error);
    throw usageError(message, usage, { cause: error });
  }
}
