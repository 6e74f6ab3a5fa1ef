/**
 * What the WAL receiver asks of the primary over an ordinary connection: its permanent
 * physical slot (made, read, dropped after it was lost), where the primary's WAL is, and the
 * server's WAL segment size.
 */
import type pg from 'pg';
import { PostgresError } from './errors.js';
import { queryRows } from './query.js';

/** The receiver's slot as the primary reports it. */
export interface WalSlotState {
  readonly name: string;
  /** A walsender streams from it. */
  readonly active: boolean;
  /** `wal_status`: reserved, extended, unreserved or lost; undefined before it reserved WAL. */
  readonly walStatus: string | undefined;
  /**
   * `restart_lsn`: with `pg_receivewal --synchronous`, the position the receiver confirmed
   * flushed to the spool. Undefined once the slot is lost.
   */
  readonly restartLsn: string | undefined;
  /** WAL the slot keeps on the primary (its current LSN minus restart_lsn). */
  readonly retainedBytes: number;
}

/** The primary's position in the WAL. */
export interface PrimaryWalPosition {
  /** `pg_current_wal_lsn()`. */
  readonly currentLsn: string;
  /** The primary's timeline (`pg_control_checkpoint()`'s, which a promotion updates). */
  readonly timeline: number;
}

/** The slot, or undefined when the primary has none of that name. */
export async function readWalSlot(
  client: pg.Client,
  name: string,
): Promise<WalSlotState | undefined> {
  const rows = await queryRows<{
    active: boolean;
    wal_status: string | null;
    restart_lsn: string | null;
    retained: string | null;
  }>(
    client,
    'the primary',
    `SELECT active, wal_status, restart_lsn::text AS restart_lsn,
       pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn)::text AS retained
     FROM pg_replication_slots WHERE slot_name = $1`,
    [name],
  );
  const row = rows[0];
  if (row === undefined) return undefined;
  return {
    name,
    active: row.active,
    walStatus: row.wal_status ?? undefined,
    restartLsn: row.restart_lsn ?? undefined,
    retainedBytes: Math.max(0, Math.round(Number(row.retained ?? 0))),
  };
}

function codeOf(error: unknown): string | undefined {
  const cause = error instanceof Error ? error.cause : undefined;
  return typeof cause === 'object' && cause !== null && 'code' in cause
    ? String(cause.code)
    : undefined;
}

/** A refusal to make the slot, with the setting or privilege that fixes it. */
function slotCreationError(name: string, error: unknown): PostgresError {
  const reason = error instanceof Error ? error.message : String(error);
  const fix = /wal_level/.test(reason)
    ? 'set wal_level = replica (or logical) on the server and restart it'
    : /max_replication_slots > 0/.test(reason)
      ? 'set max_replication_slots above 0 on the server and restart it'
      : /all replication slots are in use/.test(reason)
        ? 'raise max_replication_slots on the server (and restart it), or drop a slot no longer used'
        : /permission denied|must be superuser or replication role/.test(reason)
          ? 'give the role of spec.target.credentials REPLICATION (ALTER ROLE ... REPLICATION)'
          : 'see the server log';
  return new PostgresError(
    `cannot create the WAL receiver's replication slot ${name} on the primary: ${reason}; ${fix}`,
    { cause: error },
  );
}

/**
 * Makes the permanent slot if it is missing, reserving WAL from now on; returns whether it was
 * made. Two receivers racing to make it both succeed (the loser sees it exists).
 *
 * @throws PostgresError naming the setting or privilege to fix
 */
export async function ensureWalSlot(client: pg.Client, name: string): Promise<boolean> {
  if ((await readWalSlot(client, name)) !== undefined) return false;
  try {
    await queryRows(client, 'the primary', 'SELECT pg_create_physical_replication_slot($1, true)', [
      name,
    ]);
    return true;
  } catch (error) {
    // 42710: duplicate_object, another receiver made it first.
    if (codeOf(error) === '42710') return false;
    throw slotCreationError(name, error);
  }
}

/** Drops the slot (a lost one, before it is made again); a missing slot is no error. */
export async function dropWalSlot(client: pg.Client, name: string): Promise<void> {
  await queryRows(
    client,
    'the primary',
    'SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1',
    [name],
  );
}

/** Where the primary's WAL is now, and its timeline. */
export async function readPrimaryWalPosition(client: pg.Client): Promise<PrimaryWalPosition> {
  const rows = await queryRows<{ lsn: string; timeline: number }>(
    client,
    'the primary',
    'SELECT pg_current_wal_lsn()::text AS lsn, (SELECT timeline_id FROM pg_control_checkpoint()) AS timeline',
  );
  const row = rows[0];
  if (row === undefined) throw new PostgresError('the primary returned no WAL position');
  return { currentLsn: row.lsn, timeline: Number(row.timeline) };
}

/** `wal_segment_size` in bytes (initdb --wal-segsize; 16 MiB unless changed). */
export async function readWalSegmentSize(client: pg.Client): Promise<number> {
  const rows = await queryRows<{ bytes: string }>(
    client,
    'the primary',
    "SELECT setting AS bytes FROM pg_settings WHERE name = 'wal_segment_size'",
  );
  const bytes = Number(rows[0]?.bytes);
  if (!Number.isInteger(bytes) || bytes <= 0) {
    throw new PostgresError(`the primary reported wal_segment_size "${rows[0]?.bytes}"`);
  }
  return bytes;
}
