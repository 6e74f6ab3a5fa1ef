/** Fresh databases loaded by pgbench for the tests of a describe block, dropped after them. */
import { afterAll } from 'vitest';
import { initializePgbench } from '../../harness/pgbench.js';
import { createTestDatabase } from '../../harness/postgres.js';
import { dropTestDatabase } from './policy-file.js';

/**
 * Call in a describe block: returns a function that creates a database on the primary and
 * loads `pgbench -i -s SCALE` into it; every database it created is dropped once the block's
 * tests are done, so later backups of the whole server stay small.
 */
export function usePgbenchDatabases(): (scale: number) => Promise<string> {
  const databases: string[] = [];
  afterAll(async () => {
    for (const database of databases) await dropTestDatabase(database);
  });
  return async (scale) => {
    const database = await createTestDatabase();
    databases.push(database);
    await initializePgbench(database, scale);
    return database;
  };
}
