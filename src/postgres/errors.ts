/** Failures of the PostgreSQL adapter; each message names the server, what is wrong and what to do. */

/** A PostgreSQL server or one of its tools failed; `cause` holds the original error. */
export class PostgresError extends Error {
  override readonly name: string = 'PostgresError';
}

/** The server refused the password: the message names where the password came from. */
export class AuthenticationError extends PostgresError {
  override readonly name = 'AuthenticationError';
}

/** No host said it is the primary: the message lists what each host said. */
export class NoPrimaryError extends PostgresError {
  override readonly name: string = 'NoPrimaryError';
}

/**
 * The target names no server at all (no pod matches its selector): unlike a primary that does
 * not answer, there is nothing to wait for.
 */
export class NoServerError extends NoPrimaryError {
  override readonly name = 'NoServerError';
}

/** The image carries no client tool of the server's major version. */
export class ToolNotFoundError extends PostgresError {
  override readonly name = 'ToolNotFoundError';
}

/**
 * A replica cancelled a query of a dump because replaying the primary's WAL needed what the
 * query held (rows it might still see, a lock): the message names the settings that prevent it.
 */
export class RecoveryConflictError extends PostgresError {
  override readonly name = 'RecoveryConflictError';
}
