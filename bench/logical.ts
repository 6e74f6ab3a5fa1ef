/**
 * bench/logical: our logical backup (pg_dumpall --globals-only and pg_dump -Fc of the replica,
 * streamed through the runner to S3) against plain `pg_dump -Fc > file` of the same database
 * on the same replica, side by side in one run (their order alternating by round, after one
 * unmeasured round of both), the CPU seconds each side cost (ours: runner, pg_dumpall, pg_dump,
 * MinIO and the replica's backends; baseline: pg_dump and its backend), the load average, and
 * the runner's peak RSS. Prints medians.
 *
 *   npm run bench:logical                     # sizes: pgbench scale 35 and 140 (≈0.5 and 2.1 GB)
 *   BENCH_SCALES=50 BENCH_ROUNDS=3 npm run bench:logical
 *   BENCH_SCALES=35,140,560 BENCH_ROUNDS=5 npm run bench:logical   # + ≈8 GB: 17 GB of disk, ≈15 min
 *
 * The runner is built first as the image runs it (the esbuild bundle of the compiled CLI).
 * Uses the environment of `npm run env:up` (started if it is not running); creates, and drops
 * afterwards, one database per size, and deletes what it uploaded.
 */
import { closeSync, openSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { serverAddress, superuserClient, withClient } from '../test/harness/postgres.js';
import { waitForReplica } from '../test/integration/logical/source-databases.js';
import {
  cpuColumns,
  cpuMedians,
  describeRound,
  loadSince,
  loadText,
  type MeasuredWithCpu,
  timedWithCpuOf,
} from './cpu-seconds.js';
import {
  benchEachScale,
  measureRounds,
  measureRunner,
  medianColumns,
  PEAK_RSS_COLUMN,
  prepareRunnerBench,
  printTable,
  roundMedians,
  withPgbenchDatabase,
} from './runner-bench.js';

async function databaseSizeBytes(database: string): Promise<number> {
  return withClient(superuserClient('replica'), async (client) => {
    const result = await client.query<{ size: string }>(
      'SELECT pg_database_size($1)::text AS size',
      [database],
    );
    return Number(result.rows[0]?.size ?? 0);
  });
}

/** The dump is served by the replica; MinIO stores ours. */
const timedWithCpu = timedWithCpuOf(['minio', 'postgres-replica']);

function runOurs(dir: string, database: string): Promise<MeasuredWithCpu> {
  return measureRunner(
    {
      runner: RUNNER,
      fixture: 'logical-policy.yaml',
      dir,
      type: 'logical',
      line: 'weekly',
      // Each run has a prefix of its own, so one Sunday serves every round.
      at: '2026-03-01T02:30:00Z',
      edit: (spec) => {
        Object.assign(spec.logical ?? {}, { databases: [database] });
      },
    },
    timedWithCpu,
  );
}

async function runBaseline(dir: string, database: string, round: number): Promise<MeasuredWithCpu> {
  const file = join(dir, `baseline-${round}.dump`);
  const { host, port } = serverAddress('replica');
  const fd = openSync(file, 'w');
  try {
    // The baseline: `pg_dump -Fc > file`, of the same database on the same replica.
    return await timedWithCpu(
      join(process.env.PGBACKUP_PG_BIN ?? '', 'pg_dump'),
      ['--no-password', `--host=${host}`, `--port=${port}`, '-Fc', database],
      { stdoutFd: fd },
    );
  } finally {
    closeSync(fd);
    await rm(file, { force: true });
  }
}

async function benchSize(scale: number, rounds: number, dir: string) {
  return withPgbenchDatabase(scale, async (database) => {
    await waitForReplica();
    const results = await measureRounds(rounds, {
      ours: () => runOurs(dir, database),
      baseline: (round) => runBaseline(dir, database, round),
      warmUpRound: rounds,
      describe: describeRound('pg_dump'),
    });
    const sizeBytes = await databaseSizeBytes(database);
    return {
      scale,
      databaseGiB: sizeBytes / 2 ** 30,
      ...roundMedians(results, ['dumping', 'backup committed']),
      ...cpuMedians(results),
    };
  });
}

const RUNNER = await prepareRunnerBench();
const loadAtStart = loadText();
const { rounds, rows } = await benchEachScale('pgbackup-bench-logical-', benchSize);
console.log(
  `bench/logical: medians of ${rounds} rounds, pg_dump -Fc of the replica; ${loadSince(loadAtStart)}`,
);
printTable(
  [
    ['scale', (row) => String(row.scale)],
    ['database GiB', (row) => row.databaseGiB.toFixed(2)],
    ...medianColumns({ command: 'pg_dump -Fc', baseline: 'pg_dump', phase: 'dump phase' }),
    ...cpuColumns('pg_dump'),
    PEAK_RSS_COLUMN,
  ],
  rows,
);
