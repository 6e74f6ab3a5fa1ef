/**
 * One question to one server (DESIGN.md §4): is it in recovery, which version is it, and how
 * far has it got in the WAL. Discovery of the primary and the choice of a replica both ask it.
 */
import type pg from 'pg';
import { connectTo } from './connect.js';
import type { Credentials, Endpoint } from './credentials.js';

/** A server that answered, with the open connection (the caller ends it). */
export interface ServerSession {
  readonly endpoint: Endpoint;
  readonly client: pg.Client;
  /** `server_version`, e.g. `15.14 (Debian 15.14-0+deb12u1)`. */
  readonly serverVersion: string;
  /** `server_version_num`, e.g. 150014. */
  readonly serverVersionNumber: number;
  /** The major version, e.g. 15. */
  readonly major: number;
  /** `pg_is_in_recovery()`: a replica (or a server still recovering). */
  readonly inRecovery: boolean;
  /**
   * How far the server has got in the WAL: the primary's current position, a replica's last
   * replayed one (undefined while a replica has replayed nothing).
   */
  readonly walLsn: string | undefined;
}

/** What a server answered: a session, or what it said instead (a refusal, an error). */
export type ServerAnswer =
  | { readonly session: ServerSession }
  | { readonly said: string; readonly error?: unknown };

/** How to reach the servers. */
export interface AskInput {
  readonly credentials: Credentials;
  readonly timeoutMs?: number | undefined;
}

const QUESTION = `SELECT pg_is_in_recovery() AS recovery,
  current_setting('server_version') AS version,
  current_setting('server_version_num') AS num,
  (CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn() ELSE pg_current_wal_lsn() END)::text AS lsn`;

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Connects to a server and asks it; never throws, a failure is what the server "said". */
export async function askServer(input: AskInput, endpoint: Endpoint): Promise<ServerAnswer> {
  let client: pg.Client;
  try {
    client = await connectTo({
      endpoint,
      credentials: input.credentials,
      timeoutMs: input.timeoutMs,
    });
  } catch (error) {
    return { said: messageOf(error), error };
  }
  try {
    const result = await client.query<{
      recovery: boolean;
      version: string;
      num: string;
      lsn: string | null;
    }>(QUESTION);
    const row = result.rows[0];
    if (row === undefined) throw new Error('the server returned no row');
    const serverVersionNumber = Number(row.num);
    return {
      session: {
        endpoint,
        client,
        serverVersion: row.version,
        serverVersionNumber,
        major: Math.floor(serverVersionNumber / 10_000),
        inRecovery: row.recovery,
        walLsn: row.lsn ?? undefined,
      },
    };
  } catch (error) {
    await client.end().catch(() => undefined);
    return { said: messageOf(error), error };
  }
}

/** Asks every endpoint at once; the answers are in the endpoints' order. */
export function askServers(
  input: AskInput,
  endpoints: readonly Endpoint[],
): Promise<ServerAnswer[]> {
  return Promise.all(endpoints.map((endpoint) => askServer(input, endpoint)));
}

/** An LSN (`16/B374D848`) as a number of bytes, to compare and subtract positions. */
export function lsnToBigInt(lsn: string): bigint {
  const [high = '0', low = '0'] = lsn.split('/');
  return (BigInt(`0x${high}`) << 32n) | BigInt(`0x${low}`);
}
