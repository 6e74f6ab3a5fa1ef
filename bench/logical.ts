/**
 * bench/logical: our logical backup (pg_dumpall --globals-only and pg_dump -Fc of the replica,
 * streamed through the runner to S3) against plain `pg_dump -Fc > file` of the same database
 * on the same replica, side by side in one run (their order alternating by round, after one
 * unmeasured round of both), and the runner's peak RSS. Prints medians.
 *
 *   npm run bench:logical                     # sizes: pgbench scale 35 and 140 (≈0.5 and 2.1 GB)
 *   BENCH_SCALES=50 BENCH_ROUNDS=3 npm run bench:logical
 *
 * The runner is compiled to .cache/bench-dist first, as the image runs compiled JavaScript.
 * Uses the environment of `npm run env:up` (started if it is not running); creates, and drops
 * afterwards, one database per size, and deletes what it uploaded.
 */
import { closeSync, openSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../test/harness/env/layout.js';
import { initializePgbench } from '../test/harness/pgbench.js';
import { createTestDatabase, superuserClient, withClient } from '../test/harness/postgres.js';
import { testPrefix } from '../test/harness/s3.js';
import { waitForReplica } from '../test/integration/logical/source-databases.js';
import {
  deleteUnder,
  type Measured,
  median,
  prepareRunnerBench,
  secondsBetween,
  timed,
  writeBenchPolicy,
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

interface Round {
  readonly ours: Measured;
  readonly baseline: Measured;
}

/** The environment's variables are in process.env only once it is up. */
function benchEnv(): NodeJS.ProcessEnv {
  return { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' };
}

async function runOurs(dir: string, database: string): Promise<Measured> {
  const prefix = testPrefix();
  const policy = await writeBenchPolicy(
    'logical-policy.yaml',
    join(dir, 'policy.yaml'),
    prefix,
    (spec) => {
      Object.assign(spec.logical ?? {}, { databases: [database] });
    },
  );
  // Each run has a prefix of its own, so one Sunday serves every round.
  const at = '2026-03-01T02:30:00Z';
  try {
    return await timed(
      process.execPath,
      [RUNNER, 'run', '--type', 'logical', '--line', 'weekly', '-f', policy, '--at', at],
      { env: benchEnv(), cwd: repoRoot },
    );
  } finally {
    await deleteUnder(prefix);
  }
}

async function runBaseline(dir: string, database: string, round: number): Promise<Measured> {
  const file = join(dir, `baseline-${round}.dump`);
  const [host, port] = (process.env.PGBACKUP_REPLICA ?? '').split(':');
  const fd = openSync(file, 'w');
  try {
    // The baseline: `pg_dump -Fc > file`, of the same database on the same replica.
    return await timed(
      join(process.env.PGBACKUP_PG_BIN ?? '', 'pg_dump'),
      ['--no-password', `--host=${host}`, `--port=${port}`, '-Fc', database],
      { env: benchEnv(), cwd: repoRoot, stdoutFd: fd },
    );
  } finally {
    closeSync(fd);
    await rm(file, { force: true });
  }
}

async function measureRound(dir: string, database: string, round: number): Promise<Round> {
  // Alternate who goes first, so neither always gets the warmer cache.
  if (round % 2 === 0) {
    const ours = await runOurs(dir, database);
    return { ours, baseline: await runBaseline(dir, database, round) };
  }
  const baseline = await runBaseline(dir, database, round);
  return { ours: await runOurs(dir, database), baseline };
}

async function benchSize(scale: number, rounds: number, dir: string) {
  const database = await createTestDatabase();
  try {
    process.stderr.write(`pgbench -i -s ${scale} into ${database}…\n`);
    await initializePgbench(database, scale);
    await waitForReplica();
    // Flush what loading dirtied, then one unmeasured round of both warms the caches (the
    // replica's, the page cache, MinIO), so the first measured run pays no more than the rest.
    await withClient(superuserClient('primary'), (client) => client.query('CHECKPOINT'));
    await measureRound(dir, database, rounds);
    const sizeBytes = await databaseSizeBytes(database);
    const results: Round[] = [];
    for (let round = 0; round < rounds; round += 1) {
      results.push(await measureRound(dir, database, round));
      process.stderr.write(`  round ${round + 1}/${rounds} done\n`);
    }
    return {
      scale,
      databaseGiB: sizeBytes / 2 ** 30,
      oursSeconds: median(results.map((result) => result.ours.seconds)),
      baselineSeconds: median(results.map((result) => result.baseline.seconds)),
      ratio: median(results.map((result) => result.ours.seconds / result.baseline.seconds)),
      dumpRatio: median(
        results.map(
          (result) =>
            secondsBetween(result.ours.stderr, 'dumping', 'backup committed') /
            result.baseline.seconds,
        ),
      ),
      runnerPeakRssMiB: median(results.map((result) => result.ours.maxRssKiB / 1024)),
    };
  } finally {
    await withClient(superuserClient('primary'), (client) =>
      client.query(`DROP DATABASE IF EXISTS ${client.escapeIdentifier(database)} WITH (FORCE)`),
    );
  }
}

const RUNNER = await prepareRunnerBench();
const scales = (process.env.BENCH_SCALES ?? '35,140').split(',').map(Number);
const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
const dir = await mkdtemp(join(tmpdir(), 'pgbackup-bench-logical-'));
try {
  const rows = [];
  for (const scale of scales) rows.push(await benchSize(scale, rounds, dir));
  console.log(`bench/logical: medians of ${rounds} rounds, pg_dump -Fc of the replica`);
  console.log(
    'scale  database GiB  ours s  pg_dump -Fc s  ours/pg_dump  dump phase/pg_dump  runner peak RSS MiB',
  );
  for (const row of rows) {
    console.log(
      [
        String(row.scale).padStart(5),
        row.databaseGiB.toFixed(2).padStart(12),
        row.oursSeconds.toFixed(1).padStart(6),
        row.baselineSeconds.toFixed(1).padStart(13),
        row.ratio.toFixed(3).padStart(12),
        row.dumpRatio.toFixed(3).padStart(18),
        row.runnerPeakRssMiB.toFixed(0).padStart(20),
      ].join('  '),
    );
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}
