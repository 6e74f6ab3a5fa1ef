import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runPgbackup } from '../../harness/pgbackup-run.js';
import { withClient } from '../../harness/postgres.js';
import { listCommitted } from '../binary/policy-file.js';
import { type LogicalPolicy, logicalRunArgs, writeLogicalPolicy } from './logical-policy.js';
import { readManifest } from './restore-dump.js';
import { hostOf, type ScratchPair, startScratchPair, waitForReplicaTable } from './scratch-pair.js';

// A private pair: stopping the shared replica would fail every other test that uses it.
describe('a logical run of a private primary and replica, before and after the replica stops', () => {
  let pair: ScratchPair;
  let hosts: string[];

  beforeAll(async () => {
    pair = await startScratchPair({ primary: '127.0.0.42', replica: '127.0.0.43' });
    hosts = [hostOf(pair.primary), hostOf(pair.replica)];
    await withClient(pair.primary.client('postgres'), async (client) => {
      await client.query('CREATE DATABASE inventory');
    });
    await withClient(pair.primary.client('inventory'), async (client) => {
      await client.query('CREATE TABLE items AS SELECT n AS id FROM generate_series(1, 100) n');
    });
    // The replica has the database once it answers a connection to it.
    await waitForReplicaTable(pair.replica, 'inventory', 'items', 60_000);
  });

  afterAll(async () => {
    await pair?.stop();
  });

  function policyWith(fallbackToPrimary: boolean): Promise<LogicalPolicy> {
    return writeLogicalPolicy([], (document) => {
      document.spec.target.hosts = hosts;
      Object.assign(document.spec.logical as object, { fallbackToPrimary });
    });
  }

  it('dumps every connectable database but the templates, from the replica', async () => {
    const policy = await policyWith(false);
    const run = await runPgbackup(logicalRunArgs(policy, 'weekly', '2026-03-01T02:30:00Z'));
    expect(run.code, run.stderr).toBe(0);
    const [key] = await listCommitted(policy.logicalPrefix);
    const manifest = await readManifest(key ?? '');
    expect(manifest.server.host).toBe(hostOf(pair.replica));
    expect(manifest.objects.map((object) => object.name)).toEqual([
      'globals.sql',
      'inventory.dump',
      'postgres.dump',
    ]);
  });

  describe('with the replica stopped', () => {
    beforeAll(async () => {
      await pair.stopReplica();
    });

    it('fails, naming what each server said and the fallback setting, and commits nothing', async () => {
      const policy = await policyWith(false);
      const run = await runPgbackup(logicalRunArgs(policy, 'weekly', '2026-03-08T02:30:00Z'));
      expect(run.code).toBe(1);
      expect(run.stderr).toContain(
        `no replica to dump among spec.target.hosts (${hosts.join(', ')})`,
      );
      expect(run.stderr).toContain('spec.logical.fallbackToPrimary is false');
      expect(run.stderr).toMatch(new RegExp(`${hostOf(pair.primary)}: the primary \\(at `));
      expect(run.stderr).toContain(`${hostOf(pair.replica)}: cannot connect to PostgreSQL`);
      expect(await listCommitted(policy.logicalPrefix)).toEqual([]);
    });

    it('dumps the primary when fallbackToPrimary is true, and says so', async () => {
      const policy = await policyWith(true);
      const run = await runPgbackup(logicalRunArgs(policy, 'weekly', '2026-03-08T02:30:00Z'));
      expect(run.code, run.stderr).toBe(0);
      expect(run.stdout).toContain(
        `note: taken from the primary ${hostOf(pair.primary)} because no replica was available (spec.logical.fallbackToPrimary is true)`,
      );
      const [key] = await listCommitted(policy.logicalPrefix);
      const manifest = await readManifest(key ?? '');
      expect(manifest.server.host).toBe(hostOf(pair.primary));
      expect(manifest.objects.map((object) => object.name)).toContain('inventory.dump');
    });
  });
});
