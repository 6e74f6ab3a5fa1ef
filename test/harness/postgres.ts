/**
 * The PostgreSQL primary and replica as tests use them: superuser clients over TCP and a
 * fresh database per test.
 */
import pg from 'pg';
import { requireEnv, uniqueSuffix } from './variables.js';

/** `host:port` of a server, split. */
export function serverAddress(role: 'primary' | 'replica'): { host: string; port: number } {
  const value = requireEnv(role === 'primary' ? 'PGBACKUP_PRIMARY' : 'PGBACKUP_REPLICA');
  const [host = '', port = ''] = value.split(':');
  return { host, port: Number(port) };
}

/** A superuser client (not yet connected) for a server and database. */
export function superuserClient(role: 'primary' | 'replica', database = 'postgres'): pg.Client {
  return new pg.Client({
    ...serverAddress(role),
    user: requireEnv('PGUSER'),
    password: requireEnv('PGPASSWORD'),
    database,
  });
}

/** Runs `work` with a connected client and always disconnects. */
export async function withClient<T>(
  client: pg.Client,
  work: (client: pg.Client) => Promise<T>,
): Promise<T> {
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** Creates an empty database on the primary with a unique name; returns the name. */
export async function createTestDatabase(): Promise<string> {
  const name = `test_${uniqueSuffix()}`;
  await withClient(superuserClient('primary'), (client) =>
    client.query(`CREATE DATABASE ${client.escapeIdentifier(name)}`),
  );
  return name;
}
