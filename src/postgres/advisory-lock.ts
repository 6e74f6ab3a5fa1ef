/**
 * The per-policy advisory lock runs of one policy and type queue on, taken on the server the
 * run backs up: the primary for a binary run, the replica (or the primary it falls back to) a
 * logical run dumps.
 */
import { createHash } from 'node:crypto';
import type { ServerSession } from './ask-server.js';
import { formatEndpoint } from './credentials.js';
import { queryRows } from './query.js';

/** A signed 64-bit advisory lock key per policy and backup type, as a decimal string. */
export function advisoryLockKeyOf(namespace: string, policy: string, type: string): string {
  const digest = createHash('sha256').update(`pgbackup/${namespace}/${policy}/${type}`).digest();
  return digest.readBigInt64BE(0).toString();
}

/**
 * Waits for the session-level advisory lock of a policy: runs of one policy queue on it, and
 * it is released when the session ends, however the run ends (a killed run's connection closes).
 *
 * @throws PostgresError naming the server (`the replica 10.0.0.7:5432`) when it refuses
 */
export async function acquireAdvisoryLock(
  session: Pick<ServerSession, 'client' | 'endpoint' | 'inRecovery'>,
  key: string,
): Promise<void> {
  const server = `the ${session.inRecovery ? 'replica' : 'primary'} ${formatEndpoint(session.endpoint)}`;
  await queryRows(session.client, server, 'SELECT pg_advisory_lock($1::bigint)', [key]);
}
