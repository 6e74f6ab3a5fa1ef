/**
 * What the runner asks of the primary around a binary backup, over the discovery connection:
 * the physical replication slot that holds WAL, the database size and the tablespaces.
 */
import { createHash } from 'node:crypto';
import type pg from 'pg';
import { PostgresError } from './errors.js';
import { queryRows } from './query.js';

/**
 * A deterministic slot name per policy, so the next run finds and drops the slot of a run that
 * died: `pgbackup_` and 16 hex digits of the SHA-256 of `namespace/policy`.
 */
export function replicationSlotNameOf(namespace: string, policy: string): string {
  const digest = createHash('sha256').update(`${namespace}/${policy}`).digest('hex');
  return `pgbackup_${digest.slice(0, 16)}`;
}

/**
 * The permanent physical slot of a policy's WAL receiver (continuous protection): distinct
 * from the binary runs' temporary one, so dropping either never touches the other.
 */
export function walSlotNameOf(namespace: string, policy: string): string {
  const digest = createHash('sha256').update(`${namespace}/${policy}`).digest('hex');
  return `pgbackup_wal_${digest.slice(0, 16)}`;
}

function query<R extends pg.QueryResultRow>(
  client: pg.Client,
  text: string,
  values: unknown[] = [],
): Promise<R[]> {
  return queryRows<R>(client, 'the primary', text, values);
}

/** A replication slot as the primary reports it. */
export interface ReplicationSlotState {
  readonly name: string;
  /** Whether a process (a walsender) is using it. */
  readonly active: boolean;
  /** WAL the slot keeps the primary from removing: its current position minus the slot's. */
  readonly retainedBytes: number;
}

/** The slot, if present, whether a process is using it and how much WAL it holds. */
export async function findReplicationSlot(
  client: pg.Client,
  name: string,
): Promise<ReplicationSlotState | undefined> {
  const rows = await query<{ active: boolean; retained: string | null }>(
    client,
    'SELECT active, pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn)::text AS retained FROM pg_replication_slots WHERE slot_name = $1',
    [name],
  );
  const row = rows[0];
  // A slot that reserves no WAL (created without reserving it) has no restart_lsn.
  return row === undefined
    ? undefined
    : { name, active: row.active, retainedBytes: Math.max(0, Number(row.retained ?? 0)) };
}

/** Drops the slot if it exists; a slot still in use is an error (another run holds it). */
export async function dropReplicationSlot(client: pg.Client, name: string): Promise<boolean> {
  const slot = await findReplicationSlot(client, name);
  if (slot === undefined) return false;
  if (slot.active) {
    throw new PostgresError(
      `replication slot ${name} on the primary is in use by another process: another backup of this policy is running, or a process outside pgbackup uses the slot. Wait for it, or drop the slot with pg_drop_replication_slot('${name}')`,
    );
  }
  await query(client, 'SELECT pg_drop_replication_slot($1)', [name]);
  return true;
}

/**
 * Creates a physical replication slot that reserves WAL from now on. `pg_basebackup -X fetch`
 * copies the WAL at the end of the backup; without a slot, checkpoints during a long backup
 * under write load recycle segments it still needs, and the backup fails or is unusable.
 */
export async function createReplicationSlot(client: pg.Client, name: string): Promise<void> {
  await query(client, 'SELECT pg_create_physical_replication_slot($1, true)', [name]);
}

/** The total size of every database, which bounds the size of the backup stream. */
export async function totalDatabaseSizeBytes(client: pg.Client): Promise<number> {
  const rows = await query<{ size: string }>(
    client,
    'SELECT coalesce(sum(pg_database_size(oid)), 0)::text AS size FROM pg_database WHERE datallowconn',
  );
  return Number(rows[0]?.size ?? 0);
}

/** User tablespaces (besides pg_default and pg_global), with their locations. */
export async function listUserTablespaces(
  client: pg.Client,
): Promise<{ name: string; location: string }[]> {
  return query<{ name: string; location: string }>(
    client,
    "SELECT spcname AS name, pg_tablespace_location(oid) AS location FROM pg_tablespace WHERE spcname NOT IN ('pg_default', 'pg_global') ORDER BY spcname",
  );
}
