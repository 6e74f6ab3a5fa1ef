/**
 * What the runner's benches share: the runner built as the image runs it, the environment
 * up, their policies aimed at it and their uploads deleted, each measured process's wall
 * time and peak RSS (VmHWM, polled from /proc until it exits; its children are not counted),
 * one pgbench database per size, rounds of both sides in alternating order after a warm-up,
 * and the table of medians.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeleteObjectCommand } from '@aws-sdk/client-s3';
import { parse, stringify } from 'yaml';
import { upEnvironment } from '../test/harness/env/environment.js';
import { repoRoot } from '../test/harness/env/layout.js';
import { ensureBuiltOperator } from '../test/harness/executor/built-operator.js';
import { initializePgbench } from '../test/harness/pgbench.js';
import { createTestDatabase, superuserClient, withClient } from '../test/harness/postgres.js';
import { testBucket, testPrefix, testS3Client } from '../test/harness/s3.js';
import { dropTestDatabase, listKeys } from '../test/integration/binary/policy-file.js';

/**
 * Builds the runner as the image runs it (`npm run build`'s bundle, dist/bin/pgbackup.mjs;
 * cached per source under .cache/operator-dist), starts the environment if it is not up and
 * exports its variables; returns the runner's entry point.
 */
export async function prepareRunnerBench(): Promise<string> {
  const runner = await ensureBuiltOperator();
  const variables = await upEnvironment((message) => process.stderr.write(`env: ${message}\n`));
  Object.assign(process.env, variables);
  return runner;
}

/** What one run of a command cost. */
export interface Measured {
  readonly seconds: number;
  readonly maxRssKiB: number;
  /** Everything the process wrote to stderr (the runner's log). */
  readonly stderr: string;
}

/** A policy under bench/fixtures/ aimed at the environment's servers and bucket prefix. */
export async function writeBenchPolicy(
  fixture: string,
  file: string,
  prefix: string,
  edit: (spec: Record<string, Record<string, unknown>>) => void = () => undefined,
): Promise<string> {
  const policy = parse(await readFile(join(repoRoot, 'bench', 'fixtures', fixture), 'utf8'));
  policy.spec.target.hosts = [process.env.PGBACKUP_REPLICA, process.env.PGBACKUP_PRIMARY];
  Object.assign(policy.spec.storage.s3, {
    bucket: testBucket(),
    prefix,
    endpoint: process.env.PGBACKUP_S3_ENDPOINT,
    region: process.env.AWS_REGION,
  });
  edit(policy.spec);
  await writeFile(file, stringify(policy));
  return file;
}

/** Deletes what a bench uploaded under a prefix. */
export async function deleteUnder(prefix: string): Promise<void> {
  for (const key of await listKeys(prefix)) {
    await testS3Client().send(new DeleteObjectCommand({ Bucket: testBucket(), Key: key }));
  }
}

/** VmHWM of a running process, in KiB; 0 once it is gone. */
export function peakRssKiB(pid: number): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    return Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? 0);
  } catch {
    return 0;
  }
}

/** The environment a measured command runs in (its variables are in process.env once it is up). */
function benchEnvironment(): NodeJS.ProcessEnv {
  return { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' };
}

/** How a measured command is started. */
export interface TimedOptions {
  /** A file descriptor for stdout; default: discarded. */
  readonly stdoutFd?: number;
}

/**
 * Runs a command to completion in the repository's root with the environment's variables;
 * rejects with its stderr's tail when it fails.
 */
export function timed(
  command: string,
  args: string[],
  options: TimedOptions = {},
): Promise<Measured> {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(command, args, {
      env: benchEnvironment(),
      cwd: repoRoot,
      stdio: ['ignore', options.stdoutFd ?? 'ignore', 'pipe'],
    });
    let stderr = '';
    let maxRssKiB = 0;
    const poll = setInterval(() => {
      if (child.pid !== undefined) maxRssKiB = Math.max(maxRssKiB, peakRssKiB(child.pid));
    }, 50);
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on('close', (code) => {
      clearInterval(poll);
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      if (code !== 0) {
        reject(new Error(`${command} failed (${code}):\n${stderr.slice(-5000)}`));
        return;
      }
      resolve({ seconds, maxRssKiB, stderr });
    });
  });
}

/** The median of some numbers. */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[middle] ?? 0)
    : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
}

/** Seconds between two messages of a pino log (the runner's stderr). */
export function secondsBetween(log: string, from: string, to: string): number {
  const times = new Map<string, number>();
  for (const line of log.split('\n')) {
    try {
      const entry = JSON.parse(line) as { msg?: string; time?: number };
      if (entry.msg !== undefined && entry.time !== undefined && !times.has(entry.msg)) {
        times.set(entry.msg, entry.time);
      }
    } catch {
      // Not a log line (a Node warning).
    }
  }
  return ((times.get(to) ?? 0) - (times.get(from) ?? 0)) / 1000;
}

/** One run of the runner, as a CronJob runs it, with a policy from bench/fixtures/. */
export interface RunnerRun {
  /** The runner's entry point, from {@link prepareRunnerBench}. */
  readonly runner: string;
  readonly fixture: string;
  /** Where the policy file is written. */
  readonly dir: string;
  readonly type: 'binary' | 'logical';
  readonly line: string;
  /** `--at`: the time the run takes as now. */
  readonly at: string;
  readonly edit?: (spec: Record<string, Record<string, unknown>>) => void;
}

/**
 * Measures one run of the runner under a bucket prefix of its own (with `timed` or a wrapper
 * of it); what it uploaded is deleted.
 */
export async function measureRunner<M extends Measured>(
  run: RunnerRun,
  measure: (command: string, args: string[]) => Promise<M>,
): Promise<M> {
  const prefix = testPrefix();
  const policy = await writeBenchPolicy(
    run.fixture,
    join(run.dir, 'policy.yaml'),
    prefix,
    run.edit,
  );
  const args = ['run', '--type', run.type, '--line', run.line, '-f', policy, '--at', run.at];
  try {
    return await measure(process.execPath, [run.runner, ...args]);
  } finally {
    await deleteUnder(prefix);
  }
}

/** One round: our run and the baseline's. */
export interface Round<M extends Measured = Measured> {
  readonly ours: M;
  readonly baseline: M;
}

/** The medians both benches report. */
export interface RoundMedians {
  readonly oursSeconds: number;
  readonly baselineSeconds: number;
  /** Our wall time over the baseline's. */
  readonly ratio: number;
  /** Our main phase (between two messages of the runner's log) over the baseline's wall time. */
  readonly phaseRatio: number;
  readonly runnerPeakRssMiB: number;
}

/** The medians of some rounds; `phase` names the log messages that start and end our main phase. */
export function roundMedians(
  results: readonly Round[],
  phase: readonly [from: string, to: string],
): RoundMedians {
  const medianOf = (value: (round: Round) => number) => median(results.map(value));
  return {
    oursSeconds: medianOf(({ ours }) => ours.seconds),
    baselineSeconds: medianOf(({ baseline }) => baseline.seconds),
    ratio: medianOf(({ ours, baseline }) => ours.seconds / baseline.seconds),
    phaseRatio: medianOf(
      ({ ours, baseline }) => secondsBetween(ours.stderr, ...phase) / baseline.seconds,
    ),
    runnerPeakRssMiB: medianOf(({ ours }) => ours.maxRssKiB / 1024),
  };
}

/** Both sides of a bench, by round number. */
export interface BothSides<M extends Measured> {
  readonly ours: (round: number) => Promise<M>;
  readonly baseline: (round: number) => Promise<M>;
  /** The round number both sides get in the unmeasured warm-up round. */
  readonly warmUpRound: number;
  /** What follows "round N/M" on stderr once a round is done. */
  readonly describe: (result: Round<M>) => string;
}

/**
 * A CHECKPOINT (else the first run pays for what loading the database dirtied), one
 * unmeasured round of both sides that warms the caches (the server's, the page cache, MinIO),
 * so the first measured run pays no more than the others; then `rounds` measured rounds, who
 * goes first alternating by round, so neither always gets the warmer cache nor always follows
 * the other's checkpoint and I/O.
 */
export async function measureRounds<M extends Measured>(
  rounds: number,
  sides: BothSides<M>,
): Promise<Round<M>[]> {
  await withClient(superuserClient('primary'), (client) => client.query('CHECKPOINT'));
  await sides.ours(sides.warmUpRound);
  await sides.baseline(sides.warmUpRound);
  const results: Round<M>[] = [];
  for (let round = 0; round < rounds; round += 1) {
    const result = await measureBothSides(round, sides);
    results.push(result);
    process.stderr.write(`  round ${round + 1}/${rounds}${sides.describe(result)}\n`);
  }
  return results;
}

async function measureBothSides<M extends Measured>(
  round: number,
  sides: BothSides<M>,
): Promise<Round<M>> {
  if (round % 2 === 0) {
    const ours = await sides.ours(round);
    return { ours, baseline: await sides.baseline(round) };
  }
  const baseline = await sides.baseline(round);
  return { ours: await sides.ours(round), baseline };
}

/** Creates a database, loads `pgbench -i -s SCALE` into it, runs `body`, and drops it. */
export async function withPgbenchDatabase<T>(
  scale: number,
  body: (database: string) => Promise<T>,
): Promise<T> {
  const database = await createTestDatabase();
  try {
    process.stderr.write(`pgbench -i -s ${scale} into ${database}…\n`);
    await initializePgbench(database, scale);
    return await body(database);
  } finally {
    await dropTestDatabase(database);
  }
}

/** What {@link benchEachScale} measured. */
export interface BenchRun<Row> {
  readonly rounds: number;
  readonly rows: readonly Row[];
}

/**
 * Runs `benchSize` for each size in BENCH_SCALES (pgbench scales; default 35 and 140) with
 * BENCH_ROUNDS rounds (default 3), in a temporary directory removed afterwards.
 */
export async function benchEachScale<Row>(
  dirPrefix: string,
  benchSize: (scale: number, rounds: number, dir: string) => Promise<Row>,
): Promise<BenchRun<Row>> {
  const scales = (process.env.BENCH_SCALES ?? '35,140').split(',').map(Number);
  const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
  const dir = await mkdtemp(join(tmpdir(), dirPrefix));
  try {
    const rows: Row[] = [];
    for (const scale of scales) rows.push(await benchSize(scale, rounds, dir));
    return { rounds, rows };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** A column of a bench's table: its title, and a row's value, right-aligned under it. */
export type Column<Row> = readonly [title: string, value: (row: Row) => string];

/** Prints a table: the titles, then one line per row. */
export function printTable<Row>(columns: readonly Column<Row>[], rows: readonly Row[]): void {
  console.log(columns.map(([title]) => title).join('  '));
  for (const row of rows) {
    console.log(columns.map(([title, value]) => value(row).padStart(title.length)).join('  '));
  }
}

/** How the table names the baseline and our main phase. */
export interface MedianTitles {
  /** The baseline's command, e.g. `pg_dump -Fc`. */
  readonly command: string;
  /** Its short name in ratios, e.g. `pg_dump`. */
  readonly baseline: string;
  /** Our main phase, e.g. `dump phase`. */
  readonly phase: string;
}

/** The columns of {@link RoundMedians} but the peak RSS: wall times and ratios. */
export function medianColumns(titles: MedianTitles): Column<RoundMedians>[] {
  return [
    ['ours s', (row) => row.oursSeconds.toFixed(1)],
    [`${titles.command} s`, (row) => row.baselineSeconds.toFixed(1)],
    [`ours/${titles.baseline}`, (row) => row.ratio.toFixed(3)],
    [`${titles.phase}/${titles.baseline}`, (row) => row.phaseRatio.toFixed(3)],
  ];
}

/** The runner's peak RSS column. */
export const PEAK_RSS_COLUMN: Column<RoundMedians> = [
  'runner peak RSS MiB',
  (row) => row.runnerPeakRssMiB.toFixed(0),
];
