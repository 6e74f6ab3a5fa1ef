/** Connections to PostgreSQL with errors a person can act on. */
import pg from 'pg';
import { type Credentials, type Endpoint, formatEndpoint } from './credentials.js';
import { AuthenticationError, PostgresError } from './errors.js';

/** What {@link connectTo} needs. */
export interface ConnectInput {
  readonly endpoint: Endpoint;
  readonly credentials: Credentials;
  readonly database?: string;
  readonly timeoutMs?: number;
  readonly applicationName?: string;
}

function codeOf(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'code' in error
    ? String(error.code)
    : undefined;
}

/** Turns a connection failure into an error that names the server and the credentials' source. */
export function describeConnectError(input: ConnectInput, error: unknown): PostgresError {
  const where = formatEndpoint(input.endpoint);
  const { username, source } = input.credentials;
  const reason = error instanceof Error ? error.message : String(error);
  // 28P01: invalid_password; 28000: invalid_authorization_specification (no pg_hba entry, no role).
  if (codeOf(error) === '28P01' || codeOf(error) === '28000') {
    return new AuthenticationError(
      `PostgreSQL at ${where} refused user "${username}": ${reason}. The credentials come from ${source}; correct the username or password there`,
      { cause: error },
    );
  }
  return new PostgresError(
    `cannot connect to PostgreSQL at ${where} as "${username}": ${reason}. Check that the server is running and reachable from the runner`,
    { cause: error },
  );
}

/** Opens a connection; the caller ends it. */
export async function connectTo(input: ConnectInput): Promise<pg.Client> {
  const client = new pg.Client({
    host: input.endpoint.host,
    port: input.endpoint.port,
    user: input.credentials.username,
    // Undefined lets pg read libpq's password file, like the PostgreSQL tools do.
    ...(input.credentials.password === undefined ? {} : { password: input.credentials.password }),
    database: input.database ?? 'postgres',
    connectionTimeoutMillis: input.timeoutMs ?? 10_000,
    application_name: input.applicationName ?? 'pgbackup',
  });
  // A server that goes away while the connection sits idle (a failover mid-backup) makes the
  // client emit 'error'; with no listener Node ends the process with a stack trace. The loss
  // still fails the run: the next query on this client rejects, and so does the tool whose
  // connection went with it.
  client.on('error', () => undefined);
  try {
    await client.connect();
  } catch (error) {
    await client.end().catch(() => undefined);
    throw describeConnectError(input, error);
  }
  return client;
}
