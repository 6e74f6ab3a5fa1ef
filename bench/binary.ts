/**
 * bench/binary: our binary backup (pg_basebackup streamed through the runner to S3) against
 * plain `pg_basebackup -Ft -D DIR` to local disk with the same compression, side by side in
 * one run, and the runner's peak RSS at two database sizes. Prints medians.
 *
 *   npm run bench:binary                      # sizes: pgbench scale 35 and 140 (≈0.5 and 2.1 GB)
 *   BENCH_SCALES=10,40 BENCH_ROUNDS=1 npm run bench:binary
 *
 * Fairness: after loading each database a CHECKPOINT and one unmeasured round of both warm the
 * caches and flush what the load dirtied (else the first backup pays that checkpoint); then the
 * order alternates by round. Besides wall times it prints the CPU seconds each side cost, all
 * processes included (ours: runner, pg_basebackup, MinIO, the server's walsender; baseline:
 * pg_basebackup, the walsenders), which load on the machine disturbs far less than wall times,
 * and the load average, to judge the noise.
 *
 * The runner is built first as the image runs it (the esbuild bundle of the compiled CLI).
 * Uses the environment of `npm run env:up` (started if it is not running); creates, and drops
 * afterwards, one database per size, and deletes what it uploaded.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { stateDir } from '../test/harness/env/layout.js';
import { serverAddress, superuserClient, withClient } from '../test/harness/postgres.js';
import {
  benchEachScale,
  type Measured,
  measureRounds,
  measureRunner,
  median,
  medianColumns,
  PEAK_RSS_COLUMN,
  prepareRunnerBench,
  printTable,
  roundMedians,
  timed,
  withPgbenchDatabase,
} from './runner-bench.js';

interface MeasuredWithCpu extends Measured {
  /** CPU seconds of the process and its children, plus those of MinIO and the PostgreSQL server. */
  readonly cpuSeconds: number;
}

const CLOCK_TICKS_PER_SECOND = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }));

/**
 * CPU seconds a process used, with its children that it waited for (fields utime, stime,
 * cutime and cstime of /proc/PID/stat): for the primary's postmaster that includes every
 * backend that ended, the walsender of a base backup among them.
 */
function cpuSecondsOf(pid: number | 'self'): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = [11, 12, 13, 14].reduce((sum, index) => sum + Number(fields[index] ?? 0), 0);
    return ticks / CLOCK_TICKS_PER_SECOND;
  } catch {
    return 0;
  }
}

/** The pids of the environment's MinIO and primary PostgreSQL, whose CPU a run also costs. */
function serverPids(): number[] {
  return ['minio', 'postgres-primary'].flatMap((name) => {
    const file = join(stateDir(), 'pids', `${name}.pid`);
    return existsSync(file) ? [Number.parseInt(readFileSync(file, 'utf8'), 10)] : [];
  });
}

function cpuSecondsOfRun(): number {
  return cpuSecondsOf('self') + serverPids().reduce((sum, pid) => sum + cpuSecondsOf(pid), 0);
}

/** {@link timed}, and the CPU seconds the run cost, the servers' included. */
async function timedWithCpu(command: string, args: string[]): Promise<MeasuredWithCpu> {
  // This bench's own CPU (polling, logging) counts too, but is tiny next to a backup's.
  const cpuBefore = cpuSecondsOfRun();
  const measured = await timed(command, args);
  return { ...measured, cpuSeconds: cpuSecondsOfRun() - cpuBefore };
}

/** The 1-, 5- and 15-minute load averages: other work on the machine skews wall times. */
function loadText(): string {
  return loadavg()
    .map((load) => load.toFixed(2))
    .join(' ');
}

async function clusterSizeBytes(): Promise<number> {
  return withClient(superuserClient('primary'), async (client) => {
    const result = await client.query<{ size: string }>(
      'SELECT sum(pg_database_size(oid))::text AS size FROM pg_database',
    );
    return Number(result.rows[0]?.size ?? 0);
  });
}

/** Our backup, as a CronJob runs it, on day `day` of the month; what it uploaded is deleted. */
function runOurs(dir: string, day: number): Promise<MeasuredWithCpu> {
  const at = `2026-03-${String(day).padStart(2, '0')}T01:30:00Z`;
  return measureRunner(
    { runner: RUNNER, fixture: 'binary-policy.yaml', dir, type: 'binary', line: 'daily', at },
    timedWithCpu,
  );
}

async function runBaseline(dir: string, day: number): Promise<MeasuredWithCpu> {
  const target = join(dir, `baseline-${day}`);
  const { host, port } = serverAddress('primary');
  try {
    return await timedWithCpu(join(process.env.PGBACKUP_PG_BIN ?? '', 'pg_basebackup'), [
      '--no-password',
      `--host=${host}`,
      `--port=${port}`,
      `--username=${process.env.PGUSER}`,
      `--pgdata=${target}`,
      // The baseline, `pg_basebackup -Ft -D DIR`, with the policy's compression and
      // checkpoint mode; its other defaults (WAL streamed alongside, fsync at the end) stay.
      '--format=tar',
      '--checkpoint=fast',
      '--compress=client-zstd',
    ]);
  } finally {
    await rm(target, { recursive: true, force: true });
  }
}

async function benchSize(scale: number, rounds: number, dir: string) {
  return withPgbenchDatabase(scale, async () => {
    const sizeBytes = await clusterSizeBytes();
    const results = await measureRounds(rounds, {
      ours: (round) => runOurs(dir, round + 1),
      baseline: (round) => runBaseline(dir, round + 1),
      warmUpRound: 27,
      describe: ({ ours, baseline }) =>
        `: ours ${ours.seconds.toFixed(2)} s, pg_basebackup ${baseline.seconds.toFixed(2)} s, load ${loadText()}`,
    });
    return {
      scale,
      clusterGiB: sizeBytes / 2 ** 30,
      // Our phase: from the runner's "streaming pg_basebackup" log line to "backup committed".
      ...roundMedians(results, ['streaming pg_basebackup', 'backup committed']),
      oursCpuSeconds: median(results.map((result) => result.ours.cpuSeconds)),
      baselineCpuSeconds: median(results.map((result) => result.baseline.cpuSeconds)),
    };
  });
}

const RUNNER = await prepareRunnerBench();
const loadAtStart = loadText();
const { rounds, rows } = await benchEachScale('pgbackup-bench-', benchSize);
console.log(
  `bench/binary: medians of ${rounds} rounds, zstd, checkpoint fast; load average ${loadAtStart} at the start, ${loadText()} at the end`,
);
printTable(
  [
    ['scale', (row) => String(row.scale)],
    ['cluster GiB', (row) => row.clusterGiB.toFixed(2)],
    ...medianColumns({ command: 'pg_basebackup', baseline: 'pg_basebackup', phase: 'streaming' }),
    ['CPU s ours', (row) => row.oursCpuSeconds.toFixed(1)],
    ['CPU s pg_basebackup', (row) => row.baselineCpuSeconds.toFixed(1)],
    PEAK_RSS_COLUMN,
  ],
  rows,
);
