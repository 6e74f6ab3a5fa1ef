/** A query on an open session whose refusal names the server and the query. */
import type pg from 'pg';
import { PostgresError } from './errors.js';

/**
 * The rows of `text`; a refusal becomes a PostgresError saying who refused what.
 *
 * @param who the server as a message names it (`the primary`, `127.0.0.3:5432`)
 */
export async function queryRows<R extends pg.QueryResultRow>(
  client: pg.Client,
  who: string,
  text: string,
  values: unknown[] = [],
): Promise<R[]> {
  try {
    return (await client.query<R>(text, values)).rows;
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new PostgresError(`${who} refused "${text}": ${reason}`, { cause: error });
  }
}
