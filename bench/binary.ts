/**
 * bench/binary: our binary backup (pg_basebackup streamed through the runner to S3) against
 * plain `pg_basebackup -Ft -D DIR` to local disk with the same compression, side by side in
 * one run, and the runner's peak RSS at two database sizes. Prints medians.
 *
 *   npm run bench:binary                      # sizes: pgbench scale 35 and 140 (≈0.5 and 2.1 GB)
 *   BENCH_SCALES=10,40 BENCH_ROUNDS=1 npm run bench:binary
 *
 * The runner is compiled to .cache/bench-dist first, as the image runs compiled JavaScript.
 * Uses the environment of `npm run env:up` (started if it is not running); creates, and drops
 * afterwards, one database per size, and deletes what it uploaded.
 */
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeleteObjectCommand } from '@aws-sdk/client-s3';
import { parse, stringify } from 'yaml';
import { upEnvironment } from '../test/harness/env/environment.js';
import { repoRoot } from '../test/harness/env/layout.js';
import { initializePgbench } from '../test/harness/pgbench.js';
import { createTestDatabase, superuserClient, withClient } from '../test/harness/postgres.js';
import { testBucket, testPrefix, testS3Client } from '../test/harness/s3.js';
import { listKeys } from '../test/integration/binary/policy-file.js';

interface Measured {
  readonly seconds: number;
  readonly maxRssKiB: number;
  /** Everything the process wrote to stderr (the runner's log). */
  readonly stderr: string;
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
      if (code !== 0) {
        reject(new Error(`${command} failed (${code}):\n${stderr.slice(-5000)}`));
        return;
      }
      resolve({ seconds, maxRssKiB, stderr });
    });
  });
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

async function measureRound(dir: string, round: number): Promise<Round> {
  const prefix = testPrefix();
  const policy = await writePolicy(dir, prefix);
  const env = {
    ...process.env,
    PGUSER: process.env.PGUSER,
    PGPASSWORD: process.env.PGPASSWORD,
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  };
  const at = `2026-03-${String(round + 1).padStart(2, '0')}T01:30:00Z`;
  const ours = await timed(
    process.execPath,
    [RUNNER, 'run', '--type', 'binary', '--line', 'daily', '-f', policy, '--at', at],
    env,
  );
  await deleteUnder(prefix);
  const target = join(dir, `baseline-${round}`);
  const [host, port] = (process.env.PGBACKUP_PRIMARY ?? '').split(':');
  const baseline = await timed(
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
    env,
  );
  await rm(target, { recursive: true, force: true });
  return { ours, baseline };
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
    const results: Round[] = [];
    for (let round = 0; round < rounds; round += 1) {
      results.push(await measureRound(dir, round));
      process.stderr.write(`  round ${round + 1}/${rounds} done\n`);
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
const dir = await mkdtemp(join(tmpdir(), 'pgbackup-bench-'));
try {
  const rows = [];
  for (const scale of scales) rows.push(await benchSize(scale, rounds, dir));
  console.log(`bench/binary: medians of ${rounds} rounds, zstd, checkpoint fast`);
  console.log(
    'scale  cluster GiB  ours s  pg_basebackup s  ours/pg_basebackup  streaming/pg_basebackup  runner peak RSS MiB',
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
        row.runnerPeakRssMiB.toFixed(0).padStart(20),
      ].join('  '),
    );
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}
