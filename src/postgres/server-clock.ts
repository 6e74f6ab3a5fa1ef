/**
 * The server's own clock. Runners on different nodes disagree about the time; every run of a
 * policy and type reads the server it backs up, so that server's clock is the one that orders
 * their backups (see retention's `compareByClock`).
 */
import type { ServerSession } from './ask-server.js';
import { formatEndpoint } from './credentials.js';
import { PostgresError } from './errors.js';
import { queryRows } from './query.js';

/**
 * The server's `clock_timestamp()` (the time now, not the transaction's start) as an ISO
 * instant.
 *
 * @throws PostgresError naming the server when it refuses
 */
export async function readServerClock(
  session: Pick<ServerSession, 'client' | 'endpoint' | 'inRecovery'>,
): Promise<string> {
  const server = `the ${session.inRecovery ? 'replica' : 'primary'} ${formatEndpoint(session.endpoint)}`;
  const [row] = await queryRows<{ now: Date }>(
    session.client,
    server,
    'SELECT clock_timestamp() AS now',
  );
  if (row === undefined) throw new PostgresError(`${server} returned no row for clock_timestamp()`);
  return row.now.toISOString();
}
