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
 * The runner is compiled to .cache/bench-dist first, as the image runs compiled JavaScript.
 * Uses the environment of `npm run env:up` (started if it is not running); creates, and drops
 * afterwards, one database per size, and deletes what it uploaded.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeleteObjectCommand } from '@aws-sdk/client-s3';
import { parse, stringify } from 'yaml';
import { upEnvironment } from '../test/harness/env/environment.js';
import { repoRoot, stateDir } from '../test/harness/env/layout.js';
import { initializePgbench } from '../test/harness/pgbench.js';
import { createTestDatabase, superuserClient, withClient } from '../test/harness/postgres.js';
import { testBucket, testPrefix, testS3Client } from '../test/harness/s3.js';
import { listKeys } from '../test/integration/binary/policy-file.js';

interface Measured {
  readonly seconds: number;
  readonly maxRssKiB: number;
  /** CPU seconds of the process and its children, plus those of MinIO and the PostgreSQL server. */
  readonly cpuSeconds: number;
  /** Everything the process wrote to stderr (the runner's log). */
  readonly stderr: string;
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

function peakRssKiB(pid: number): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    return Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? 0);
  } catch {
    return 0;
  }
}

/**
 * Runs a command to completion; returns its wall time and the peak RSS (VmHWM) of the process
 * itself, polled until it exits (its children, pg_basebackup included, are not counted).
 */
function timed(command: string, args: string[], env: NodeJS.ProcessEnv): Promise<Measured> {
  return new Promise((resolve, reject) => {
    // This bench's own CPU (polling, logging) counts too, but is tiny next to a backup's.
    const cpuBefore = cpuSecondsOfRun();
    const started = process.hrtime.bigint();
    const child = spawn(command, args, { env, cwd: repoRoot, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    let maxRssKiB = 0;
    const poll = setInterval(() => {
      if (child.pid !== undefined) maxRssKiB = Math.max(maxRssKiB, peakRssKiB(child.pid));
    }, 50);
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on('close', (code) => {
      clearInterval(poll);
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const cpuSeconds = cpuSecondsOfRun() - cpuBefore;
      if (code !== 0) {
        reject(new Error(`${command} failed (${code}):\n${stderr.slice(-5000)}`));
        return;
      }
      resolve({ seconds, maxRssKiB, cpuSeconds, stderr });
    });
  });
}

/** The 1-, 5- and 15-minute load averages: other work on the machine skews wall times. */
function loadText(): string {
  return loadavg()
    .map((load) => load.toFixed(2))
    .join(' ');
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[middle] ?? 0)
    : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
}

async function clusterSizeBytes(): Promise<number> {
  return withClient(superuserClient('primary'), async (client) => {
    const result = await client.query<{ size: string }>(
      'SELECT sum(pg_database_size(oid))::text AS size FROM pg_database',
    );
    return Number(result.rows[0]?.size ?? 0);
  });
}

async function writePolicy(dir: string, prefix: string): Promise<string> {
  const policy = parse(await readFile(join(repoRoot, 'bench/fixtures/binary-policy.yaml'), 'utf8'));
  policy.spec.target.hosts = [process.env.PGBACKUP_REPLICA, process.env.PGBACKUP_PRIMARY];
  Object.assign(policy.spec.storage.s3, {
    bucket: testBucket(),
    prefix,
    endpoint: process.env.PGBACKUP_S3_ENDPOINT,
    region: process.env.AWS_REGION,
  });
  const file = join(dir, 'policy.yaml');
  await writeFile(file, stringify(policy));
  return file;
}

async function deleteUnder(prefix: string): Promise<void> {
  for (const key of await listKeys(prefix)) {
    await testS3Client().send(new DeleteObjectCommand({ Bucket: testBucket(), Key: key }));
  }
}

interface Round {
  readonly ours: Measured;
  readonly baseline: Measured;
}

function benchEnvironment(): NodeJS.ProcessEnv {
  return {
    ...process.env,
    PGUSER: process.env.PGUSER,
    PGPASSWORD: process.env.PGPASSWORD,
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  };
}

/** Our backup, as a CronJob runs it, on day `day` of the month; what it uploaded is deleted. */
async function runOurs(dir: string, day: number): Promise<Measured> {
  const prefix = testPrefix();
  const policy = await writePolicy(dir, prefix);
  const at = `2026-03-${String(day).padStart(2, '0')}T01:30:00Z`;
  try {
    return await timed(
      process.execPath,
      [RUNNER, 'run', '--type', 'binary', '--line', 'daily', '-f', policy, '--at', at],
      benchEnvironment(),
    );
  } finally {
    await deleteUnder(prefix);
  }
}

async function runBaseline(dir: string, day: number): Promise<Measured> {
  const target = join(dir, `baseline-${day}`);
  const [host, port] = (process.env.PGBACKUP_PRIMARY ?? '').split(':');
  try {
    return await timed(
      join(process.env.PGBACKUP_PG_BIN ?? '', 'pg_basebackup'),
      [
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
      ],
      benchEnvironment(),
    );
  } finally {
    await rm(target, { recursive: true, force: true });
  }
}

async function measureRound(dir: string, round: number): Promise<Round> {
  const day = round + 1;
  // Alternate who goes first, so neither always follows the other's checkpoint and I/O.
  if (round % 2 === 0) {
    const ours = await runOurs(dir, day);
    return { ours, baseline: await runBaseline(dir, day) };
  }
  const baseline = await runBaseline(dir, day);
  return { ours: await runOurs(dir, day), baseline };
}

/**
 * Flushes what loading the database dirtied, and warms the caches (the server's, the page
 * cache, MinIO) with one unmeasured round of both, so the first measured run pays no more
 * than the others.
 */
async function warmUp(dir: string): Promise<void> {
  await withClient(superuserClient('primary'), (client) => client.query('CHECKPOINT'));
  await runOurs(dir, 28);
  await runBaseline(dir, 28);
}

/** Seconds from the runner's "streaming pg_basebackup" log line to "backup committed". */
function streamingSeconds(log: string): number {
  const times = new Map<string, number>();
  for (const line of log.split('\n')) {
    try {
      const entry = JSON.parse(line) as { msg?: string; time?: number };
      if (entry.msg !== undefined && entry.time !== undefined) times.set(entry.msg, entry.time);
    } catch {
      // Not a log line (a Node warning).
    }
  }
  return (
    ((times.get('backup committed') ?? 0) - (times.get('streaming pg_basebackup') ?? 0)) / 1000
  );
}

async function benchSize(scale: number, rounds: number, dir: string) {
  const database = await createTestDatabase();
  try {
    process.stderr.write(`pgbench -i -s ${scale} into ${database}…\n`);
    await initializePgbench(database, scale);
    const sizeBytes = await clusterSizeBytes();
    await warmUp(dir);
    const results: Round[] = [];
    for (let round = 0; round < rounds; round += 1) {
      results.push(await measureRound(dir, round));
      const { ours, baseline } = results[round] ?? {};
      process.stderr.write(
        `  round ${round + 1}/${rounds}: ours ${ours?.seconds.toFixed(2)} s, pg_basebackup ${baseline?.seconds.toFixed(2)} s, load ${loadText()}\n`,
      );
    }
    return {
      scale,
      clusterGiB: sizeBytes / 2 ** 30,
      oursSeconds: median(results.map((result) => result.ours.seconds)),
      baselineSeconds: median(results.map((result) => result.baseline.seconds)),
      ratio: median(results.map((result) => result.ours.seconds / result.baseline.seconds)),
      streamRatio: median(
        results.map((result) => streamingSeconds(result.ours.stderr) / result.baseline.seconds),
      ),
      runnerPeakRssMiB: median(results.map((result) => result.ours.maxRssKiB / 1024)),
      oursCpuSeconds: median(results.map((result) => result.ours.cpuSeconds)),
      baselineCpuSeconds: median(results.map((result) => result.baseline.cpuSeconds)),
    };
  } finally {
    await withClient(superuserClient('primary'), (client) =>
      client.query(`DROP DATABASE IF EXISTS ${client.escapeIdentifier(database)} WITH (FORCE)`),
    );
  }
}

// The runner as the image runs it: compiled JavaScript, not TypeScript through tsx.
const BUILD_DIR = join(repoRoot, '.cache', 'bench-dist');
const RUNNER = join(BUILD_DIR, 'cli', 'main.js');
execFileSync(join(repoRoot, 'node_modules', '.bin', 'tsc'), [
  '-p',
  join(repoRoot, 'tsconfig.build.json'),
  '--outDir',
  BUILD_DIR,
]);
const variables = await upEnvironment((message) => process.stderr.write(`env: ${message}\n`));
Object.assign(process.env, variables);
const scales = (process.env.BENCH_SCALES ?? '35,140').split(',').map(Number);
const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
const loadAtStart = loadText();
const dir = await mkdtemp(join(tmpdir(), 'pgbackup-bench-'));
try {
  const rows = [];
  for (const scale of scales) rows.push(await benchSize(scale, rounds, dir));
  console.log(
    `bench/binary: medians of ${rounds} rounds, zstd, checkpoint fast; load average ${loadAtStart} at the start, ${loadText()} at the end`,
  );
  console.log(
    'scale  cluster GiB  ours s  pg_basebackup s  ours/pg_basebackup  streaming/pg_basebackup  CPU s ours  CPU s pg_basebackup  runner peak RSS MiB',
  );
  for (const row of rows) {
    console.log(
      [
        String(row.scale).padStart(5),
        row.clusterGiB.toFixed(2).padStart(11),
        row.oursSeconds.toFixed(1).padStart(6),
        row.baselineSeconds.toFixed(1).padStart(16),
        row.ratio.toFixed(3).padStart(18),
        row.streamRatio.toFixed(3).padStart(23),
        row.oursCpuSeconds.toFixed(1).padStart(10),
        row.baselineCpuSeconds.toFixed(1).padStart(19),
        row.runnerPeakRssMiB.toFixed(0).padStart(20),
      ].join('  '),
    );
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}
