/**
 * The source of the logical tests on the shared primary: a role and its group, and three
 * databases (one with a non-ASCII name, one with large objects, one with pgcrypto) filled
 * from the SQL fixtures under test/fixtures/logical/ with psql, as a person would.
 */
import { join } from 'node:path';
import type pg from 'pg';
import { repoRoot } from '../../harness/env/layout.js';
import { runTool } from '../../harness/env/processes.js';
import { serverAddress, superuserClient, withClient } from '../../harness/postgres.js';
import { requireEnv, uniqueSuffix } from '../../harness/variables.js';

/** The names of one test's source objects (roles are server-wide, so they are unique too). */
export interface SourceDatabases {
  readonly role: string;
  readonly group: string;
  readonly unicode: string;
  readonly blobs: string;
  readonly crypto: string;
}

/** A server's address and the superuser's login, as libpq's environment. */
export function libpqEnvironment(server: { host: string; port: number }): Record<string, string> {
  return {
    PGHOST: server.host,
    PGPORT: String(server.port),
    PGUSER: requireEnv('PGUSER'),
    PGPASSWORD: requireEnv('PGPASSWORD'),
  };
}

/** Runs a stock PostgreSQL client program (psql, pg_restore, …) of the environment. */
export function runPgTool(
  tool: string,
  args: readonly string[],
  server: { host: string; port: number },
): Promise<string> {
  return runTool(join(requireEnv('PGBACKUP_PG_BIN'), tool), args, {
    env: libpqEnvironment(server),
  });
}

/** `psql -f` of a fixture into a database of the primary, stopping at the first error. */
export async function psqlFixture(
  database: string,
  fixture: string,
  variables: Readonly<Record<string, string>>,
): Promise<void> {
  await runPgTool(
    'psql',
    [
      '-X',
      '-q',
      '-v',
      'ON_ERROR_STOP=1',
      ...Object.entries(variables).flatMap(([name, value]) => ['-v', `${name}=${value}`]),
      '-d',
      database,
      '-f',
      join(repoRoot, 'test', 'fixtures', 'logical', fixture),
    ],
    serverAddress('primary'),
  );
}

/** Creates the role, its group and the three databases on the primary. */
export async function createSourceDatabases(): Promise<SourceDatabases> {
  const suffix = uniqueSuffix();
  const source: SourceDatabases = {
    role: `shop_${suffix}`,
    group: `shop_readers_${suffix}`,
    unicode: `käse_straße_${suffix}`,
    blobs: `blobs_${suffix}`,
    crypto: `crypto_${suffix}`,
  };
  const variables = { role: source.role, group: source.group };
  await psqlFixture('postgres', 'roles.sql', variables);
  await withClient(superuserClient('primary'), async (client) => {
    for (const database of [source.unicode, source.blobs, source.crypto]) {
      await client.query(`CREATE DATABASE ${client.escapeIdentifier(database)}`);
    }
  });
  await psqlFixture(source.unicode, 'unicode.sql', variables);
  await psqlFixture(source.blobs, 'blobs.sql', variables);
  await psqlFixture(source.crypto, 'crypto.sql', variables);
  return source;
}

/** The databases of a source. */
export function databasesOf(source: SourceDatabases): string[] {
  return [source.unicode, source.blobs, source.crypto];
}

/** Drops what {@link createSourceDatabases} made. */
export async function dropSourceDatabases(source: SourceDatabases): Promise<void> {
  await withClient(superuserClient('primary'), async (client) => {
    for (const database of databasesOf(source)) {
      await client.query(
        `DROP DATABASE IF EXISTS ${client.escapeIdentifier(database)} WITH (FORCE)`,
      );
    }
    await client.query(`DROP ROLE IF EXISTS ${client.escapeIdentifier(source.role)}`);
    await client.query(`DROP ROLE IF EXISTS ${client.escapeIdentifier(source.group)}`);
  });
}

/**
 * Waits until a replica has replayed everything its primary has written so far; by default
 * the shared pair's.
 */
export async function waitForReplica(
  primary: () => pg.Client = () => superuserClient('primary'),
  replica: () => pg.Client = () => superuserClient('replica'),
): Promise<void> {
  const target = await withClient(primary(), async (client) => {
    const result = await client.query<{ lsn: string }>('SELECT pg_current_wal_lsn()::text AS lsn');
    return result.rows[0]?.lsn ?? '0/0';
  });
  await withClient(replica(), async (client) => {
    for (let attempt = 0; attempt < 600; attempt += 1) {
      const result = await client.query<{ caught_up: boolean }>(
        'SELECT pg_last_wal_replay_lsn() >= $1::pg_lsn AS caught_up',
        [target],
      );
      if (result.rows[0]?.caught_up === true) return;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(
      `the replica ${client.host}:${client.port} did not replay up to ${target} within a minute`,
    );
  });
}
