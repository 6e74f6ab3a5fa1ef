/**
 * The server a logical backup is restored into, through its maintenance database (`postgres`,
 * or `template1` where `postgres` was dropped, as createdb does): its version, whether a
 * database exists, and the new database created (and dropped again when the restore fails).
 */
import type pg from 'pg';
import { connectTo } from './connect.js';
import { type Credentials, type Endpoint, formatEndpoint } from './credentials.js';
import { queryRows } from './query.js';

/** Where and as whom to connect. */
export interface RestoreTarget {
  readonly endpoint: Endpoint;
  readonly credentials: Credentials;
}

/** A session on the target's maintenance database. */
export interface MaintenanceSession {
  readonly client: pg.Client;
  /** `host:port`, for messages. */
  readonly where: string;
  /** The database the session is connected to. */
  readonly database: string;
}

/** The databases tried in turn for a maintenance session. */
const MAINTENANCE_DATABASES = ['postgres', 'template1'] as const;

function isMissingDatabase(error: unknown): boolean {
  // 3D000: invalid_catalog_name; connectTo keeps the driver's error as the cause.
  const cause = error instanceof Error ? error.cause : undefined;
  return typeof cause === 'object' && cause !== null && 'code' in cause && cause.code === '3D000';
}

/**
 * Opens a session on the maintenance database and runs `work` in it; always disconnects.
 *
 * @throws PostgresError or AuthenticationError when the server cannot be reached or refuses
 */
export async function withMaintenanceSession<T>(
  target: RestoreTarget,
  work: (session: MaintenanceSession) => Promise<T>,
): Promise<T> {
  const where = formatEndpoint(target.endpoint);
  for (const [index, database] of MAINTENANCE_DATABASES.entries()) {
    let client: pg.Client;
    try {
      client = await connectTo({ ...target, database, applicationName: 'pgbackup-restore' });
    } catch (error) {
      if (isMissingDatabase(error) && index < MAINTENANCE_DATABASES.length - 1) continue;
      throw error;
    }
    try {
      return await work({ client, where, database });
    } finally {
      await client.end().catch(() => undefined);
    }
  }
  // Unreachable: the last database's failure is thrown above.
  throw new Error('no maintenance database was tried');
}

/** The server's `server_version` (`15.14 (Debian …)`) and its number (150014). */
export async function readServerVersion(
  session: MaintenanceSession,
): Promise<{ version: string; versionNumber: number }> {
  const [row] = await queryRows<{ version: string; num: string }>(
    session.client,
    session.where,
    "SELECT current_setting('server_version') AS version, current_setting('server_version_num') AS num",
  );
  return { version: row?.version ?? 'unknown', versionNumber: Number(row?.num ?? 0) };
}

/** Whether the server has a database of that exact name. */
export async function databaseExists(session: MaintenanceSession, name: string): Promise<boolean> {
  const rows = await queryRows(
    session.client,
    session.where,
    'SELECT 1 FROM pg_database WHERE datname = $1',
    [name],
  );
  return rows.length > 0;
}

/**
 * Creates an empty database from `template0`, as pg_restore's documentation asks: a dump
 * restored into a copy of `template1` collides with whatever was added to `template1`. The
 * login becomes its owner.
 */
export async function createDatabase(session: MaintenanceSession, name: string): Promise<void> {
  const identifier = session.client.escapeIdentifier(name);
  await queryRows(
    session.client,
    session.where,
    `CREATE DATABASE ${identifier} TEMPLATE template0`,
  );
}

/** Drops a database (one this restore created). */
export async function dropDatabase(session: MaintenanceSession, name: string): Promise<void> {
  const identifier = session.client.escapeIdentifier(name);
  await queryRows(session.client, session.where, `DROP DATABASE IF EXISTS ${identifier}`);
}
