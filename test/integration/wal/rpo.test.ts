/**
 * The recovery point (issue 15's first Done-when): pgbench writes while a marker row stamped
 * with clock_timestamp() is committed every 100 ms; the receiver streams the WAL into the
 * bucket; the primary is SIGKILLed, and the receiver with it (the worst case: nothing it holds
 * reaches the bucket afterwards). The newest binary backup is restored and recovered with
 * `restore_command = 'pgbackup wal-fetch %f %p -f POLICY.yaml'` as far as the bucket reaches;
 * the newest marker restored is at most uploadInterval + 5 s older than the newest committed.
 */
import { spawn } from 'node:child_process';
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { formatLsn } from '../../../src/retention/wal-names.js';
import { runTool } from '../../harness/env/processes.js';
import { runEnvironment, runPgbackup } from '../../harness/pgbackup-run.js';
import { withClient } from '../../harness/postgres.js';
import type { RestoredServer } from '../../harness/restore.js';
import { type ScratchServer, startScratchPrimary } from '../../harness/scratch-postgres.js';
import { requireEnv } from '../../harness/variables.js';
import { hostOf } from '../logical/scratch-pair.js';
import {
  bucketContinuity,
  SCRATCH_RECEIVER_ENV,
  type StartedReceiver,
  startReceiver,
  waitFor,
  walNames,
  walStoreOf,
  walTestHost,
  writeWalPolicy,
} from './receiver-harness.js';
import { recoverFromBucket } from './recover-from-bucket.js';

const UPLOAD_INTERVAL_S = 10;
const ENV = runEnvironment(SCRATCH_RECEIVER_ENV);

/** SIGKILLs a server's postmaster and every process it started, at once. */
async function killServer(dataDir: string): Promise<void> {
  const pid = Number((await readFile(join(dataDir, 'postmaster.pid'), 'utf8')).split('\n')[0]);
  const children: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '');
    // The parent pid is the second field after the command, which is in parentheses.
    const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    if (parent === pid) children.push(Number(entry));
  }
  for (const target of [pid, ...children]) {
    try {
      process.kill(target, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
}

/** Commits a marker every 100 ms until stopped; remembers the newest commit acknowledged. */
function startMarkers(server: ScratchServer) {
  let newest: { id: number; atMs: number } | undefined;
  let running = true;
  const done = (async () => {
    const client = server.client('postgres');
    client.on('error', () => undefined);
    await client.connect();
    try {
      while (running) {
        const result = await client.query<{ id: number; at: Date }>(
          'INSERT INTO marker (at) VALUES (clock_timestamp()) RETURNING id, at',
        );
        const row = result.rows[0];
        if (row !== undefined) newest = { id: row.id, atMs: row.at.getTime() };
        await sleep(100);
      }
    } catch {
      // The server was killed: the last acknowledged commit is the newest.
    } finally {
      await client.end().catch(() => undefined);
    }
  })();
  return {
    newest: () => newest,
    stop: async () => {
      running = false;
      await done;
    },
  };
}

describe('the recovery point of continuous WAL protection', () => {
  let server: ScratchServer;
  let receiver: StartedReceiver | undefined;
  let restored: RestoredServer | undefined;
  const parents: string[] = [];

  beforeAll(async () => {
    server = await startScratchPrimary(walTestHost(72));
  }, 120_000);

  afterAll(async () => {
    await restored?.stop();
    await receiver?.stop();
    await server?.stop();
    for (const parent of parents) await rm(parent, { recursive: true, force: true });
  }, 120_000);

  it(`loses at most uploadInterval + 5 s of committed markers when the primary is SIGKILLed`, async () => {
    const policy = await writeWalPolicy({ hosts: [hostOf(server)], name: 'rpo' });
    const document = parse(await readFile(policy.file, 'utf8'));
    document.spec.continuous.uploadInterval = `${UPLOAD_INTERVAL_S}s`;
    await writeFile(policy.file, stringify(document));
    const pgbench = join(requireEnv('PGBACKUP_PG_BIN'), 'pgbench');
    const where = ['-h', server.host, '-p', String(server.port), 'postgres'];
    const pgEnv = { PGUSER: requireEnv('PGUSER'), PGPASSWORD: requireEnv('PGPASSWORD') };
    await runTool(pgbench, ['-i', '-q', '-s', '2', ...where], { env: pgEnv });
    await withClient(server.client('postgres'), (client) =>
      client.query('CREATE TABLE marker (id bigserial PRIMARY KEY, at timestamptz NOT NULL)'),
    );
    const started = startReceiver(policy);
    receiver = started;
    await waitFor(
      'Streaming',
      async () => (await started.status())?.state === 'Streaming',
      60_000,
      started,
    );
    const backup = await runPgbackup(
      ['--type', 'binary', '--line', 'daily', '-f', policy.file, '--at', '2026-03-01T01:30:00Z'],
      ENV,
    );
    expect(backup.code, backup.stderr).toBe(0);

    // Load, markers, then the crash of the primary and of the receiver together.
    const load = spawn(pgbench, ['-c', '4', '-j', '2', '-T', '120', ...where], {
      env: { ...process.env, ...pgEnv },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let loadErrors = '';
    load.stderr?.on('data', (chunk: Buffer) => {
      loadErrors = (loadErrors + chunk.toString()).slice(-2000);
    });
    const markers = startMarkers(server);
    await sleep(30_000);
    const statusAtCrash = await started.status();
    await killServer(join(server.dir, 'data'));
    started.child.kill('SIGKILL');
    const receiverRun = await started.outcome;
    console.log(`the receiver's status at the crash: ${JSON.stringify(statusAtCrash)}`);
    expect(receiverRun.signal).toBe('SIGKILL');
    // pgbench ran all along: its clients died with the server, not before.
    expect(loadErrors).toMatch(/aborted|terminat|connection/i);
    receiver = undefined;
    await markers.stop();
    load.kill('SIGKILL');
    const newest = markers.newest();
    if (newest === undefined) throw new Error('no marker was committed');
    const continuity = await bucketContinuity(walStoreOf(policy));
    const stored = await walNames(walStoreOf(policy));
    console.log(
      `the bucket after the crash: ${stored.length} objects, newest ${stored.at(-1)}, WAL to ${formatLsn(continuity.newestLsn ?? 0n)}, ${continuity.gaps.length} gaps`,
    );

    // Restore the newest backup and recover it from the bucket's WAL, as far as it reaches.
    const recovered = await recoverFromBucket(policy, walTestHost(73));
    restored = recovered.server;
    parents.push(recovered.parent);
    const last = await withClient(restored.client('postgres'), async (client) => {
      // pg returns a bigint as a string.
      const result = await client.query<{ id: string; at: Date }>(
        'SELECT id, at FROM marker ORDER BY id DESC LIMIT 1',
      );
      return result.rows[0];
    });
    const fetched = await recovered.fetchLog();
    console.log(`wal-fetch said:\n${fetched.split('\n').slice(-8).join('\n')}`);
    expect(last, fetched).toBeDefined();
    // A marker committed but not yet acknowledged when the server died may be restored too.
    const lostMs = Math.max(0, newest.atMs - (last?.at.getTime() ?? 0));
    console.log(
      `measured RPO: ${(lostMs / 1000).toFixed(1)} s (newest committed marker ${newest.id}, newest restored ${last?.id}; uploadInterval ${UPLOAD_INTERVAL_S} s)`,
    );
    // Recovery went past the backup into the streamed WAL, and lost no more than promised.
    expect(Number(last?.id)).toBeGreaterThan(100);
    expect(lostMs).toBeLessThanOrEqual((UPLOAD_INTERVAL_S + 5) * 1000);
  });
});
