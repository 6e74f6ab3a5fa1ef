/**
 * `pg_restore` of one `pg_dump -Fc` file into an existing database. The database is named in
 * a conninfo string that holds its name only (so a name with `=` or quotes stays a name); the
 * server, the role and the password come from libpq's environment (PGHOST, PGPORT, PGUSER,
 * PGPASSWORD or the password file), never from the command line.
 */
import type { Credentials } from './credentials.js';
import { quoteConninfo } from './dump.js';
import { AuthenticationError, PostgresError } from './errors.js';
import { isAuthenticationFailure, lastLines, startToolProcess } from './tool-process.js';

/** What {@link restoreDump} needs. */
export interface RestoreDumpInput {
  /** The pg_restore to run. */
  readonly binary: string;
  /** The custom-format dump file. */
  readonly dumpFile: string;
  /** The database to restore into; it exists and is empty. */
  readonly database: string;
  /** 1: one transaction (a failure leaves nothing); more: pg_restore's parallel jobs. */
  readonly jobs: number;
  /** Skip the dump's owners and grants (the server lacks the dump's roles). */
  readonly noOwner: boolean;
  /** The login, for the child's PGPASSWORD (or none: the password file) and messages. */
  readonly credentials: Credentials;
  /** The server as a message names it, e.g. `10.0.0.5:5432`. */
  readonly where: string;
}

/** How many of pg_restore's last lines a failure shows. */
const FAILURE_LINES = 10;

/** pg_restore's arguments; no secret and no connection detail but the database's name. */
export function restoreDumpArguments(
  input: Pick<RestoreDumpInput, 'dumpFile' | 'database' | 'jobs' | 'noOwner'>,
): string[] {
  return [
    '--no-password',
    '--exit-on-error',
    // A single transaction cannot be shared by parallel jobs; pg_restore refuses both.
    ...(input.jobs === 1 ? ['--single-transaction'] : [`--jobs=${input.jobs}`]),
    ...(input.noOwner ? ['--no-owner', '--no-acl'] : []),
    `--dbname=dbname=${quoteConninfo(input.database)}`,
    input.dumpFile,
  ];
}

function failureOf(input: RestoreDumpInput, stderr: string, status: string): PostgresError {
  const tail = lastLines(stderr, FAILURE_LINES);
  if (isAuthenticationFailure(stderr)) {
    return new AuthenticationError(
      `pg_restore could not log in to ${input.where} as "${input.credentials.username}": ${tail}. The credentials come from ${input.credentials.source}; correct them there`,
    );
  }
  // Without --no-owner the dump's ALTER ... OWNER TO and GRANTs name roles the server may lack.
  const hint =
    !input.noOwner && /role ".*" does not exist/.test(stderr)
      ? "\nThe server lacks a role of the dump: create the roles first (the backup's globals.sql holds them), or restore with --no-owner"
      : '';
  return new PostgresError(
    `pg_restore into database "${input.database}" on ${input.where} failed (${status}):\n${tail}${hint}`,
  );
}

/**
 * Runs pg_restore to the end.
 *
 * @returns pg_restore's stderr (its warnings), when it succeeded
 * @throws PostgresError with pg_restore's last lines; AuthenticationError when the login was refused
 */
export async function restoreDump(input: RestoreDumpInput): Promise<string> {
  const tool = startToolProcess({
    binary: input.binary,
    args: restoreDumpArguments(input),
    credentials: input.credentials,
    failureOf: (stderr, status) => failureOf(input, stderr, status),
  });
  // pg_restore writes into the database, not to stdout; drain it anyway.
  tool.stdout.resume();
  return tool.exited;
}
