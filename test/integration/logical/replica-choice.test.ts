import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runPgbackup } from '../../harness/pgbackup-run.js';
import { withClient } from '../../harness/postgres.js';
import type { RestoredServer } from '../../harness/restore.js';
import { listCommitted } from '../binary/policy-file.js';
import { type LogicalPolicy, logicalRunArgs, writeLogicalPolicy } from './logical-policy.js';
import { readManifest } from './restore-dump.js';
import { hostOf, type ScratchPair, startScratchPair, startScratchReplica } from './scratch-pair.js';
import { waitForReplica } from './source-databases.js';

// Two private replicas of one primary; replay is paused on one of them so it falls behind.
describe('the replica a logical run dumps', () => {
  let pair: ScratchPair;
  let second: RestoredServer;
  let policy: LogicalPolicy;

  async function query(server: RestoredServer, database: string, text: string) {
    return withClient(server.client(database), async (client) => (await client.query(text)).rows);
  }

  /** Writes on the primary, and waits until `caughtUp` has replayed it. */
  async function writeAndReplay(caughtUp: RestoredServer): Promise<void> {
    await query(pair.primary, 'ledger', 'INSERT INTO entries SELECT generate_series(1, 1000)');
    await waitForReplica(
      () => pair.primary.client('postgres'),
      () => caughtUp.client('postgres'),
    );
  }

  async function dumpedHost(at: string): Promise<string> {
    const run = await runPgbackup(logicalRunArgs(policy, 'weekly', at));
    expect(run.code, run.stderr).toBe(0);
    const keys = await listCommitted(policy.logicalPrefix);
    const newest = keys.find((key) => key.includes(at.replace(/[-:]/g, '').slice(0, 15)));
    return (await readManifest(newest ?? '')).server.host;
  }

  beforeAll(async () => {
    pair = await startScratchPair({ primary: '127.0.0.47', replica: '127.0.0.48' });
    second = await startScratchReplica(pair.primary, '127.0.0.49');
    await query(pair.primary, 'postgres', 'CREATE DATABASE ledger');
    await query(pair.primary, 'ledger', 'CREATE TABLE entries (n int)');
    await writeAndReplay(pair.replica);
    await writeAndReplay(second);
    policy = await writeLogicalPolicy(['ledger'], (document) => {
      document.spec.target.hosts = [hostOf(pair.replica), hostOf(second), hostOf(pair.primary)];
    });
  });

  afterAll(async () => {
    await second?.stop();
    await pair?.stop();
  });

  it('is the one that has replayed the most WAL, whichever it is', async () => {
    await query(second, 'postgres', 'SELECT pg_wal_replay_pause()');
    await writeAndReplay(pair.replica);
    expect(await dumpedHost('2026-03-01T02:30:00Z')).toBe(hostOf(pair.replica));

    await query(second, 'postgres', 'SELECT pg_wal_replay_resume()');
    await query(pair.replica, 'postgres', 'SELECT pg_wal_replay_pause()');
    await writeAndReplay(second);
    expect(await dumpedHost('2026-03-08T02:30:00Z')).toBe(hostOf(second));
  });
});
