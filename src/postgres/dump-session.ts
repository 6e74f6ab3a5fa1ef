/**
 * What the runner asks the server it dumps, over its discovery connection: which databases
 * there are, whether the role may read role passwords, and the settings that decide whether
 * a replica cancels a long dump.
 */
import type pg from 'pg';
import { type Endpoint, formatEndpoint } from './credentials.js';
import { queryRows } from './query.js';

/** A database and its size, which bounds the size of its dump. */
export interface DatabaseEntry {
  readonly name: string;
  readonly sizeBytes: number;
}

/** The settings of a replica that keep a dump from being cancelled by WAL replay. */
export interface StandbySettings {
  readonly hotStandbyFeedback: string;
  readonly maxStandbyStreamingDelay: string;
}

function query<R extends pg.QueryResultRow>(
  client: pg.Client,
  endpoint: Endpoint,
  text: string,
): Promise<R[]> {
  return queryRows<R>(client, formatEndpoint(endpoint), text);
}

/** Every database that accepts connections, except templates, by name. */
export async function listDumpableDatabases(
  client: pg.Client,
  endpoint: Endpoint,
): Promise<DatabaseEntry[]> {
  const rows = await query<{ name: string; size: string }>(
    client,
    endpoint,
    'SELECT datname AS name, pg_database_size(oid)::text AS size FROM pg_database WHERE datallowconn AND NOT datistemplate ORDER BY datname',
  );
  return rows.map((row) => ({ name: row.name, sizeBytes: Number(row.size) }));
}

/** Whether the role may read pg_authid, where role passwords are kept. */
export async function canReadRolePasswords(client: pg.Client, endpoint: Endpoint) {
  const rows = await query<{ allowed: boolean }>(
    client,
    endpoint,
    "SELECT has_table_privilege('pg_catalog.pg_authid', 'SELECT') AS allowed",
  );
  return rows[0]?.allowed === true;
}

/** `hot_standby_feedback` and `max_standby_streaming_delay`, as the server shows them. */
export async function readStandbySettings(
  client: pg.Client,
  endpoint: Endpoint,
): Promise<StandbySettings> {
  const rows = await query<{ feedback: string; delay: string }>(
    client,
    endpoint,
    "SELECT current_setting('hot_standby_feedback') AS feedback, current_setting('max_standby_streaming_delay') AS delay",
  );
  return {
    hotStandbyFeedback: rows[0]?.feedback ?? 'unknown',
    maxStandbyStreamingDelay: rows[0]?.delay ?? 'unknown',
  };
}
