/**
 * The receiver resumes without a gap: killed mid-segment (with its pg_receivewal, as a
 * container's processes die together) and started again on the same spool; and through a 60 s
 * S3 outage, during which the spool grows and after which it drains.
 */
import { readdir, readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatLsn, segmentFileName, segmentOf } from '../../../src/retention/wal-names.js';
import {
  type HttpFaultProxy,
  s3ErrorAnswer,
  startHttpFaultProxy,
} from '../../harness/http-fault-proxy.js';
import { type ScratchServer, startScratchPrimary } from '../../harness/scratch-postgres.js';
import { requireEnv } from '../../harness/variables.js';
import { hostOf } from '../logical/scratch-pair.js';
import {
  bucketContinuity,
  currentLsn,
  loggedStates,
  makeWal,
  SEGMENT_SIZE,
  type StartedReceiver,
  startReceiver,
  waitFor,
  waitStreaming,
  walNames,
  walStoreOf,
  walTestHost,
  writeWalPolicy,
} from './receiver-harness.js';

/** The pids of a process's children (from /proc). */
async function childrenOf(pid: number): Promise<number[]> {
  const children: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '');
    // Fields after the command (which may hold spaces) start after its closing parenthesis.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(fields[1]) === pid) children.push(Number(entry));
  }
  return children;
}

/** The receiver's pg_receivewal children. */
async function receiveWalChildrenOf(pid: number): Promise<number[]> {
  const children = await childrenOf(pid);
  const named = await Promise.all(
    children.map(async (child) => {
      const command = await readFile(`/proc/${child}/cmdline`, 'utf8').catch(() => '');
      return command.includes('pg_receivewal') ? [child] : [];
    }),
  );
  return named.flat();
}

/** Whether a process runs (a zombie nobody reaped does not). */
async function isAlive(pid: number): Promise<boolean> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
  return (
    stat !== undefined && stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z'
  );
}

/** SIGKILLs the receiver and its pg_receivewal at once, as a killed container's processes die. */
async function killReceiver(receiver: StartedReceiver): Promise<void> {
  const pid = receiver.child.pid ?? 0;
  const children = await childrenOf(pid);
  for (const child of [pid, ...children]) process.kill(child, 'SIGKILL');
  await receiver.outcome;
}

describe('the WAL receiver resumes where the bucket and spool end', () => {
  let server: ScratchServer;
  const running: StartedReceiver[] = [];

  beforeAll(async () => {
    server = await startScratchPrimary(walTestHost(61));
  }, 120_000);

  afterAll(async () => {
    await Promise.all(running.map((receiver) => receiver.stop()));
    await server?.stop();
  }, 120_000);

  async function streaming(receiver: StartedReceiver): Promise<void> {
    running.push(receiver);
    await waitStreaming(receiver);
  }

  it('killed alone, its pg_receivewal left streaming: the next receiver takes the slot over', async () => {
    const policy = await writeWalPolicy({ hosts: [hostOf(server)], name: 'resume-orphan' });
    const store = walStoreOf(policy);
    const first = startReceiver(policy);
    await streaming(first);
    const orphans = await receiveWalChildrenOf(first.child.pid ?? 0);
    expect(orphans).toHaveLength(1);
    process.kill(first.child.pid ?? 0, 'SIGKILL');
    await first.outcome;
    running.splice(running.indexOf(first), 1);
    const second = startReceiver(policy);
    const client = server.client('postgres');
    await client.connect();
    try {
      await waitFor(
        "the orphan pg_receivewal gone and the new receiver's streaming",
        async () => {
          const alive = (await Promise.all(orphans.map(isAlive))).filter(Boolean);
          const mine = await receiveWalChildrenOf(second.child.pid ?? 0);
          const holder = await client.query<{ pid: number | null }>(
            'SELECT active_pid AS pid FROM pg_replication_slots WHERE active',
          );
          return alive.length === 0 && mine.length === 1 && holder.rows.length === 1;
        },
        60_000,
        second,
      );
      running.push(second);
      await makeWal(client, 1);
      await client.query("INSERT INTO wal_filler (payload) VALUES ('after the takeover')");
      const end = await currentLsn(client);
      const continuity = await waitFor(
        `the bucket reaching ${formatLsn(end)}`,
        async () => {
          const seen = await bucketContinuity(store);
          return (seen.newestLsn ?? 0n) >= end ? seen : undefined;
        },
        60_000,
        second,
      );
      expect(continuity.gaps).toEqual([]);
    } finally {
      await client.end();
    }
  }, 180_000);

  it('killed mid-segment and restarted: continuity over the bucket finds no gap', async () => {
    const policy = await writeWalPolicy({ hosts: [hostOf(server)], name: 'resume-killed' });
    const store = walStoreOf(policy);
    const first = startReceiver(policy);
    await streaming(first);
    const client = server.client('postgres');
    await client.connect();
    try {
      await makeWal(client, 2);
      // Mid-segment: rows without a switch, stored as a partial before the kill.
      await client.query(
        "INSERT INTO wal_filler (payload) SELECT 'mid' FROM generate_series(1, 5000)",
      );
      const midSegment = await currentLsn(client);
      await waitFor(
        'the partial before the kill',
        async () => ((await bucketContinuity(store)).newestLsn ?? 0n) >= midSegment,
        30_000,
        first,
      );
      await killReceiver(first);
      running.splice(running.indexOf(first), 1);
      // WAL written while no receiver runs: the slot keeps it for the next one.
      await client.query(
        "INSERT INTO wal_filler (payload) SELECT 'dead' FROM generate_series(1, 5000)",
      );
      await makeWal(client, 2);
      const second = startReceiver(policy);
      await streaming(second);
      await client.query("INSERT INTO wal_filler (payload) VALUES ('after the restart')");
      const end = await currentLsn(client);
      const continuity = await waitFor(
        `the bucket reaching ${formatLsn(end)}`,
        async () => {
          const seen = await bucketContinuity(store);
          return (seen.newestLsn ?? 0n) >= end ? seen : undefined;
        },
        60_000,
        second,
      );
      expect(continuity.gaps).toEqual([]);
      expect(continuity.ranges).toHaveLength(1);
    } finally {
      await client.end();
    }
  }, 180_000);

  it('through a 60 s S3 outage the spool grows, then drains, with no gap', async () => {
    const proxy: HttpFaultProxy = await startHttpFaultProxy({
      upstream: requireEnv('PGBACKUP_S3_ENDPOINT'),
    });
    const client = server.client('postgres');
    try {
      const policy = await writeWalPolicy({
        hosts: [hostOf(server)],
        name: 'resume-outage',
        endpoint: proxy.url,
      });
      const store = walStoreOf(policy);
      const receiver = startReceiver(policy);
      await streaming(receiver);
      await client.connect();
      const outageStartedMs = Date.now();
      const removeRule = proxy.addRule({
        match: () => true,
        action: s3ErrorAnswer(503, 'SlowDown'),
        times: Number.POSITIVE_INFINITY,
      });
      await makeWal(client, 3);
      const during = await waitFor(
        'Lagging, the spool holding WAL the bucket cannot take',
        async () => {
          const status = await receiver.status();
          const grown = (status?.spoolBytes ?? 0) >= 2 * SEGMENT_SIZE;
          return grown && status?.state === 'Lagging' ? status : undefined;
        },
        50_000,
        receiver,
      );
      expect(during.message).toMatch(/cannot store WAL in the bucket/);
      await sleep(Math.max(0, outageStartedMs + 60_000 - Date.now()));
      removeRule();
      const end = await currentLsn(client);
      const lastSegment = segmentFileName(1, segmentOf(end, SEGMENT_SIZE) - 1n, SEGMENT_SIZE);
      await waitFor(
        `${lastSegment} and an empty spool after the outage`,
        async () => {
          const status = await receiver.status();
          return (
            (await walNames(store)).includes(`${lastSegment}.zst`) &&
            status?.spoolBytes === 0 &&
            status.state === 'Streaming'
          );
        },
        90_000,
        receiver,
      );
      const continuity = await bucketContinuity(store);
      expect(continuity.gaps).toEqual([]);
      expect(continuity.ranges).toHaveLength(1);
      running.splice(running.indexOf(receiver), 1);
      const outcome = await receiver.stop();
      expect(outcome.code).toBe(0);
      // One log line per change of state: into Lagging with the outage, out of it after.
      const states = loggedStates(outcome.stderr);
      expect(states.indexOf('Lagging'), states.join(' → ')).toBeGreaterThan(0);
      expect(states.lastIndexOf('Streaming')).toBeGreaterThan(states.indexOf('Lagging'));
    } finally {
      await client.end().catch(() => undefined);
      await proxy.close();
    }
  }, 240_000);
});
