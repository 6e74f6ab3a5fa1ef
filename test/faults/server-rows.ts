/**
 * Faults of the machines around the run: the local volume full (a small tmpfs mounted for
 * the row), and the primary failing over mid-backup (the scratch primary stopped and its
 * replica promoted). The failover row ends the scratch pair's life as a pair: it runs last.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { runTool, waitUntil } from '../harness/env/processes.js';
import { withClient } from '../harness/postgres.js';
import { hostOf } from '../integration/logical/scratch-pair.js';
import { expectNothingLost, readCatalog, readLocalCatalog } from './fault-catalog.js';
import { startFaultRun, writeFaultPolicy } from './fault-policy.js';
import {
  expectExitTellsTheTruth,
  FAULT_AT,
  type FaultWorld,
  recordFileRow,
  rowPolicy,
  SCRATCH_RUN_ENV,
  slowS3Proxy,
  waitForUpload,
} from './fault-world.js';

/** A Sunday: the weekly logical line fires. */
const LOGICAL_AT = '2026-03-01T01:30:00Z';

/** Smaller than one uncompressed backup of an empty cluster (about 40 MiB). */
const TMPFS_SIZE = '8m';

/**
 * A failed run says why in one `pgbackup run:` line: no unhandled error, no Node stack trace.
 * The run's JSON log lines are left out of the search (a logged warning may carry an error's
 * stack as a field); pg_basebackup's own stderr may precede the line: the runner passes it on.
 */
function expectOneCleanFailure(stderr: string): void {
  const text = stderr
    .split('\n')
    .filter((line) => !line.startsWith('{'))
    .join('\n');
  expect(text, 'an unhandled error or a stack trace').not.toMatch(
    /unhandled|^\s+at |node:internal|^Node\.js v/im,
  );
  expect(stderr.match(/^pgbackup run: /gm), stderr).toHaveLength(1);
}

/** Registers the local-volume row; `world` is read when it runs. */
export function registerVolumeRows(world: () => FaultWorld): void {
  // Once a finding: the runner died of an unhandled PostgresError (pg_basebackup's exit, never
  // awaited while the stores were aborted) with a Node stack trace, and never said the volume
  // was full.
  it('the local volume fills up mid-backup: the run fails with one line naming the full volume and what to do, nothing partial is listed, the previous backups stay', async () => {
    const mountPoint = await mkdtemp(join(tmpdir(), 'pgbackup-faults-full-'));
    await runTool('mount', ['-t', 'tmpfs', '-o', `size=${TMPFS_SIZE}`, 'tmpfs', mountPoint]);
    try {
      const policy = await rowPolicy(world(), {
        edit: (document) => {
          document.spec.binary.local = { claimName: 'orders-local-backups', keep: 7 };
        },
      });
      const before = await readCatalog(policy.bucket, policy.prefix);
      const run = startFaultRun(
        { ...policy, localDir: mountPoint },
        { line: 'daily', at: FAULT_AT },
        SCRATCH_RUN_ENV,
      );
      const outcome = await run.outcome;
      const after = await readCatalog(policy.bucket, policy.prefix);
      const local = await readLocalCatalog(mountPoint);
      recordFileRow({
        fault: `local volume full (tmpfs ${TMPFS_SIZE})`,
        run:
          outcome.code === 0
            ? 'committed'
            : `failed; ${after.uploads} upload(s) left, ${local.committed.length} local backups`,
        before,
        after,
        outcome,
      });
      expectNothingLost(before, after);
      expect(local.broken, 'a partial local backup has a manifest').toEqual([]);
      expectExitTellsTheTruth({ before, after, outcome }, /no space left|ENOSPC/i);
      if (outcome.code !== 0) expect(outcome.stderr).toContain(mountPoint);
      expect(outcome.code, outcome.stderr).toBe(1);
      expectOneCleanFailure(outcome.stderr);
      expect(outcome.stderr).toMatch(/no space left on the local volume/);
      expect(outcome.stderr).toMatch(/free space|larger volume/);
    } finally {
      await runTool('umount', [mountPoint]);
      await rm(mountPoint, { recursive: true, force: true });
    }
  });
}

/** Registers the lagging-replica row; `world` is read when it runs. */
export function registerReplicaRows(world: () => FaultWorld): void {
  // The dump is taken from the lagging replica and committed, and the run's note (its log, its
  // final line, a cluster Backup's message) says how far behind the primary the replica was.
  it('a lagging replica: the logical backup is taken from it and its lag is said', async () => {
    const { pair } = world();
    await withClient(pair.primary.client('postgres'), (client) =>
      client.query('CREATE DATABASE faults'),
    );
    const policy = await rowPolicy(world(), {
      hosts: [hostOf(pair.primary), hostOf(pair.replica)],
      edit: (document) => {
        document.spec.logical = { enabled: true, lines: { weekly: 4 }, databases: ['faults'] };
      },
    });
    await waitUntil(
      'database faults on the replica',
      () => withClient(pair.replica.client('faults'), async () => true).catch(() => false),
      { timeoutMs: 60_000 },
    );
    // Replay paused: the replica falls behind by every change the primary makes from now.
    await withClient(pair.replica.client('postgres'), (client) =>
      client.query('SELECT pg_wal_replay_pause()'),
    );
    try {
      await withClient(pair.primary.client('faults'), (client) =>
        client.query('CREATE TABLE orders AS SELECT n FROM generate_series(1, 10000) AS n'),
      );
      const before = await readCatalog(policy.bucket, policy.prefix);
      const outcome = await startFaultRun(
        policy,
        { line: 'weekly', at: LOGICAL_AT, type: 'logical' },
        SCRATCH_RUN_ENV,
      ).outcome;
      const after = await readCatalog(policy.bucket, policy.prefix);
      recordFileRow({
        fault: 'lagging replica (replay paused)',
        run: outcome.code === 0 ? 'dumped from the replica, committed' : 'failed',
        before,
        after,
        outcome,
      });
      expectNothingLost(before, after);
      expectExitTellsTheTruth({ before, after, outcome }, /replica|lag/i);
      // The lag is said, not hidden: in the run's log of the replica it chose.
      expect(outcome.stderr).toMatch(/bytes behind the primary/);
      // …and in the note after the run's final line, with the point the dump is as of.
      expect(outcome.stdout).toMatch(
        /^note: taken from the replica \S+, which was \d+ bytes behind the primary .*as of the replica's replay point/m,
      );
    } finally {
      await withClient(pair.replica.client('postgres'), (client) =>
        client.query('SELECT pg_wal_replay_resume()'),
      );
    }
  });
}

/** Registers the failover row (last: it leaves the replica as the only, promoted, server). */
export function registerFailoverRows(world: () => FaultWorld): void {
  it('primary failover mid-backup: the run fails cleanly, the next finds the new primary', async () => {
    const { pair, minioEndpoint } = world();
    // A slow bucket keeps the backup streaming long enough for the failover to land in it.
    const slow = await slowS3Proxy(world(), 4_096);
    const policy = await rowPolicy(world(), {
      endpoint: `http://${slow.listen}`,
      hosts: [hostOf(pair.primary), hostOf(pair.replica)],
    });
    const before = await readCatalog(policy.bucket, policy.prefix);
    const run = startFaultRun(policy, { line: 'daily', at: FAULT_AT }, SCRATCH_RUN_ENV);
    await waitForUpload(policy, run);
    await pair.primary.stop();
    await withClient(pair.replica.client('postgres'), (client) =>
      client.query('SELECT pg_promote(true, 60)'),
    );
    const outcome = await run.outcome;
    const afterFailed = await readCatalog(policy.bucket, policy.prefix);
    await slow.removeToxic('slow');
    const direct = await writeFaultPolicy({
      hosts: [hostOf(pair.primary), hostOf(pair.replica)],
      bucket: policy.bucket,
      endpoint: minioEndpoint,
      prefix: policy.prefix,
    });
    const next = await startFaultRun(direct, { line: 'daily', at: FAULT_AT }, SCRATCH_RUN_ENV)
      .outcome;
    const after = await readCatalog(policy.bucket, policy.prefix);
    recordFileRow({
      fault: 'primary failover mid-backup',
      run: `failed; the next run (exit ${next.code}) ${next.code === 0 ? 'committed from the promoted replica' : 'failed too'}`,
      before,
      after,
      outcome,
    });
    expectNothingLost(before, afterFailed);
    expectExitTellsTheTruth(
      { before, after: afterFailed, outcome },
      /pg_basebackup|primary|connection|server/i,
    );
    expect(outcome.code).not.toBe(0);
    expectOneCleanFailure(outcome.stderr);
    expect(next.code, next.stderr).toBe(0);
    expect(next.stdout).toMatch(/^committed /);
    expectNothingLost(before, after);
    expect(after.committed).toHaveLength(before.committed.length + 1);
  });
}
