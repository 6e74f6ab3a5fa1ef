import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitUntil } from '../../harness/env/processes.js';
import { startPgbackupRun } from '../../harness/pgbackup-run.js';
import { withClient } from '../../harness/postgres.js';
import { listCommitted } from '../binary/policy-file.js';
import { type LogicalPolicy, logicalRunArgs, writeLogicalPolicy } from './logical-policy.js';
import { hostOf, type ScratchPair, startScratchPair, waitForReplicaTable } from './scratch-pair.js';

// A private pair whose replica cancels a conflicting query at once, as a replica with
// hot_standby_feedback off and max_standby_streaming_delay 0 does; the shared replica keeps
// its settings.
describe('a logical dump that the replica cancels for a recovery conflict', () => {
  let pair: ScratchPair;
  let policy: LogicalPolicy;

  beforeAll(async () => {
    pair = await startScratchPair({ primary: '127.0.0.45', replica: '127.0.0.46' }, [
      'hot_standby_feedback = off',
      'max_standby_streaming_delay = 0',
    ]);
    await withClient(pair.primary.client('postgres'), (client) =>
      client.query('CREATE DATABASE conflicts'),
    );
    // Big enough that its COPY lasts while the test changes the table on the primary.
    await withClient(pair.primary.client('conflicts'), (client) =>
      client.query(
        'CREATE TABLE big AS SELECT n, md5(n::text) || md5((n + 1)::text) AS filler FROM generate_series(1, 1500000) AS n',
      ),
    );
    await waitForReplicaTable(pair.replica, 'conflicts', 'big', 120_000);
    policy = await writeLogicalPolicy(['conflicts'], (document) => {
      document.spec.target.hosts = [hostOf(pair.primary), hostOf(pair.replica)];
    });
  });

  afterAll(async () => {
    await pair?.stop();
  });

  /** The pid of a dump's session on the replica once it copies `big`, other than `seen`. */
  function copyingDump(seen: readonly number[]): Promise<number> {
    // Polled often: the window in which the dump copies `big` is short. A minute (of wall
    // time, queries included) ends the wait well before the test's own timeout.
    return waitUntil(
      'a dump copying table big on the replica',
      () =>
        withClient(pair.replica.client('postgres'), async (client) => {
          const result = await client.query<{ pid: number }>(
            "SELECT pid FROM pg_stat_activity WHERE application_name LIKE 'pgbackup-logical-%' AND query LIKE 'COPY public.big %' AND pid <> ALL($1)",
            [seen],
          );
          return result.rows[0]?.pid;
        }),
      { timeoutMs: 60_000, intervalMs: 20 },
    );
  }

  /** A change on the primary whose replay needs the lock the dump holds on `big`. */
  async function alterBig(column: string): Promise<void> {
    await withClient(pair.primary.client('conflicts'), (client) =>
      client.query(`ALTER TABLE big ADD COLUMN ${column} int`),
    );
  }

  it('retries the dump once, and the retry commits the backup', async () => {
    const run = startPgbackupRun(logicalRunArgs(policy, 'weekly', '2026-03-01T02:30:00Z'));
    await copyingDump([]);
    await alterBig('first');
    const outcome = await run.outcome;

    expect(outcome.code, outcome.stderr).toBe(0);
    expect(outcome.stderr).toContain('recovery conflict; retrying the dump once');
    expect(outcome.stderr).toContain('conflict with recovery');
    expect(await listCommitted(`${policy.logicalPrefix}weekly/`)).toHaveLength(1);
  });

  it('fails after a second cancellation, naming the settings that prevent it', async () => {
    const run = startPgbackupRun(logicalRunArgs(policy, 'weekly', '2026-03-08T02:30:00Z'));
    const first = await copyingDump([]);
    await alterBig('second');
    await copyingDump([first]);
    await alterBig('third');
    const outcome = await run.outcome;

    expect(outcome.code).toBe(1);
    expect(outcome.stderr).toContain(
      `pg_dump of database "conflicts" on ${hostOf(pair.replica)} was cancelled by a recovery conflict`,
    );
    expect(outcome.stderr).toContain('It was retried once and cancelled again');
    expect(outcome.stderr).toContain('set hot_standby_feedback = on on it (now off');
    expect(outcome.stderr).toContain('raise max_standby_streaming_delay (now 0)');
    expect(await listCommitted(`${policy.logicalPrefix}weekly/`)).toHaveLength(1);
  });
});
