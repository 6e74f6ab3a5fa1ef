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
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { serverAddress, superuserClient, withClient } from '../test/harness/postgres.js';
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

/** Ours costs the runner, pg_basebackup, MinIO and the walsender; the baseline the last two but MinIO. */
const timedWithCpu = timedWithCpuOf(['minio', 'postgres-primary']);

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
      describe: describeRound('pg_basebackup'),
    });
    return {
      scale,
      clusterGiB: sizeBytes / 2 ** 30,
      // Our phase: from the runner's "streaming pg_basebackup" log line to "backup committed".
      ...roundMedians(results, ['streaming pg_basebackup', 'backup committed']),
      ...cpuMedians(results),
    };
  });
}

const RUNNER = await prepareRunnerBench();
const loadAtStart = loadText();
const { rounds, rows } = await benchEachScale('pgbackup-bench-', benchSize);
console.log(
  `bench/binary: medians of ${rounds} rounds, zstd, checkpoint fast; ${loadSince(loadAtStart)}`,
);
printTable(
  [
    ['scale', (row) => String(row.scale)],
    ['cluster GiB', (row) => row.clusterGiB.toFixed(2)],
    ...medianColumns({ command: 'pg_basebackup', baseline: 'pg_basebackup', phase: 'streaming' }),
    ...cpuColumns('pg_basebackup'),
    PEAK_RSS_COLUMN,
  ],
  rows,
);
