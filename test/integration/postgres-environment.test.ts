import pg from 'pg';
import { describe, expect, it, vi } from 'vitest';
import {
  createTestDatabase,
  serverAddress,
  superuserClient,
  withClient,
} from '../harness/postgres.js';
import { requireEnv } from '../harness/variables.js';

describe('the PostgreSQL primary and its streaming replica', () => {
  it('replays on the replica a row written on the primary', async () => {
    const database = await createTestDatabase();
    const marker = `row-${Math.random()}`;
    await withClient(superuserClient('primary', database), async (client) => {
      await client.query('CREATE TABLE smoke (id serial PRIMARY KEY, marker text NOT NULL)');
      await client.query('INSERT INTO smoke (marker) VALUES ($1)', [marker]);
    });
    await vi.waitFor(
      () =>
        withClient(superuserClient('replica', database), async (client) => {
          const result = await client.query<{ marker: string }>('SELECT marker FROM smoke');
          expect(result.rows.map((row) => row.marker)).toEqual([marker]);
        }),
      { timeout: 30_000, interval: 250 },
    );
  });

  it('has one primary and one server in recovery, both with data checksums', async () => {
    const describeServer = (role: 'primary' | 'replica') =>
      withClient(superuserClient(role), async (client) => {
        const result = await client.query<{ recovery: boolean; checksums: string }>(
          "SELECT pg_is_in_recovery() AS recovery, current_setting('data_checksums') AS checksums",
        );
        return result.rows[0];
      });
    expect(await describeServer('primary')).toEqual({ recovery: false, checksums: 'on' });
    expect(await describeServer('replica')).toEqual({ recovery: true, checksums: 'on' });
  });

  it('refuses a wrong password over TCP (SCRAM, not trust)', async () => {
    const client = new pg.Client({
      ...serverAddress('primary'),
      user: requireEnv('PGUSER'),
      password: 'not-the-password',
      database: 'postgres',
    });
    await expect(client.connect()).rejects.toThrow(/password authentication failed/);
  });

  it('lets the replication role stream from the primary', async () => {
    await withClient(superuserClient('primary'), async (client) => {
      const result = await client.query<{ usename: string; state: string }>(
        'SELECT usename, state FROM pg_stat_replication',
      );
      expect(result.rows).toContainEqual({
        usename: requireEnv('PGBACKUP_REPLICATION_USER'),
        state: 'streaming',
      });
    });
  });
});
