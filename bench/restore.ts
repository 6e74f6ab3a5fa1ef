/**
 * bench/restore: `pgbackup restore` against `pgbackrest restore` (process-max 1 and 2) and the
 * stock pipe (`aws s3 cp s3://… - | zstd -d | tar -x`), each restoring the same pgbench
 * database, backed up once by each tool with zstd level 3 into the same MinIO over TLS
 * (bench/restore/setup.ts, on bench/peers' servers), into a fresh empty directory, in rounds whose order alternates.
 * Prints per tool the wall time (median, min, max), the database's MB/s, CPU seconds (children
 * included), peak RSS (summed over the process tree) and MinIO's CPU, and the ratios
 * ours/each (medians of the per-round ratios).
 *
 *   npm run bench:restore                          # 1 GiB of pgbench data, 5 rounds
 *   BENCH_GIB=2,4,8 BENCH_ROUNDS=5 npm run bench:restore
 *   BENCH_TOOLS=ours,pgBackRest-pm1 npm run bench:restore
 *
 * The page cache is dropped before every restore when the bench runs as root (else it says
 * so): each restore then reads MinIO's files from disk and writes a cold directory. Restores
 * run as the server's account (PostgreSQL's data directory must be its own; `pgbackup
 * restore` refuses root). Needs no `npm run env:up`; uses addresses .20 and .21 of
 * PGBACKUP_ENV_SUBNET and removes its servers at the end.
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadText } from './cpu-seconds.js';
import { loadPgbench } from './peers/servers.js';
import {
  canDropPageCache,
  dropPageCache,
  measureRestore,
  type RestoreCommand,
  type RestoreMeasure,
} from './restore/measure.js';
import { printRestoreReport, type ToolRuns } from './restore/report.js';
import {
  AWS_CLI,
  BUCKET,
  makeTarget,
  PIPE_KEY,
  pgbackrestArgs,
  type RestoreBench,
  s3Environment,
  startRestoreBench,
  stopRestoreBench,
  takeBackups,
} from './restore/setup.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const SIZES_GIB = (process.env.BENCH_GIB ?? '1').split(',').map(Number);
/** pgbench's scale per GiB of cluster (a scale unit is about 15 MiB with its indexes). */
const SCALE_PER_GIB = 68;

/** A tool: how it restores into an empty directory. */
interface Tool {
  readonly name: string;
  restore(bench: RestoreBench, target: string): RestoreCommand;
}

const ours: Tool = {
  name: 'ours',
  restore: (bench, target) => ({
    command: bench.runtime.node,
    args: [bench.runtime.bundle, 'restore', '-f', bench.policyFile, '--target-dir', target],
    env: s3Environment(bench),
    runAs: bench.runAs,
    cwd: bench.runtime.appDir,
  }),
};

function pgbackrest(processMax: number): Tool {
  return {
    name: `pgBackRest-pm${processMax}`,
    restore: (bench, target) => ({
      command: 'pgbackrest',
      args: pgbackrestArgs(bench, [
        `--pg1-path=${target}`,
        `--process-max=${processMax}`,
        'restore',
      ]),
      env: { PATH: process.env.PATH, HOME: bench.home },
      runAs: bench.runAs,
    }),
  };
}

const pipe: Tool = {
  name: 'pipe',
  restore: (bench, target) => ({
    command: 'bash',
    args: [
      '-o',
      'pipefail',
      '-c',
      `${AWS_CLI} --endpoint-url "$S3_ENDPOINT" s3 cp "s3://${BUCKET}/${PIPE_KEY}" - | zstd -d | tar -x -C "$TARGET"`,
    ],
    env: { ...s3Environment(bench), S3_ENDPOINT: bench.servers.minio.endpoint, TARGET: target },
    runAs: bench.runAs,
  }),
};

const ALL_TOOLS: readonly Tool[] = [ours, pgbackrest(1), pgbackrest(2), pipe];

/** Bytes of the regular files under `dir`: each restore must have written the whole cluster. */
async function treeBytes(dir: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) total += (await stat(join(entry.parentPath, entry.name))).size;
  }
  return total;
}

async function restoreOnce(bench: RestoreBench, tool: Tool, target: string, dropped: boolean) {
  await makeTarget(target, bench.runAs);
  if (dropped) await dropPageCache();
  try {
    const measure = await measureRestore(
      tool.restore(bench, target),
      join(bench.home, 'time.out'),
      bench.servers.minio.pid,
    );
    const bytes = await treeBytes(target);
    return { ...measure, restoredBytes: bytes };
  } finally {
    await rm(target, { recursive: true, force: true });
  }
}

function describe(name: string, run: RestoreMeasure & { restoredBytes: number }): string {
  const programs = [...run.cpuByProgram]
    .filter(([, seconds]) => seconds >= 0.05)
    .sort((a, b) => b[1] - a[1])
    .map(([program, seconds]) => `${program} ${seconds.toFixed(1)}`)
    .join(', ');
  return `  ${name}: ${run.seconds.toFixed(1)} s, CPU ${run.cpuSeconds.toFixed(1)} s (${programs}), RSS ${(run.peakRssBytes / 2 ** 20).toFixed(0)} MiB, MinIO ${run.minioCpuSeconds.toFixed(1)} s, restored ${(run.restoredBytes / 2 ** 20).toFixed(0)} MiB, load ${loadText()}\n`;
}

async function benchSize(bench: RestoreBench, tools: readonly Tool[], gib: number, index: number) {
  const scale = Number(process.env.BENCH_SCALE ?? Math.round(gib * SCALE_PER_GIB));
  const clusterBytes = await loadPgbench(bench.servers, scale);
  await takeBackups(bench, `2026-03-${String(index + 1).padStart(2, '0')}T01:30:00Z`);
  const dropped = canDropPageCache();
  if (!dropped) process.stderr.write('cannot drop the page cache (not root): restores run warm\n');
  const runs = new Map<string, ToolRuns>(tools.map((tool) => [tool.name, []]));
  // Unmeasured: one restore of each warms what a first run would otherwise pay alone (the
  // runtime's files, pgBackRest's manifest cache).
  for (const tool of tools) await restoreOnce(bench, tool, join(bench.home, 'warm-up'), dropped);
  for (let round = 0; round < ROUNDS; round += 1) {
    process.stderr.write(`round ${round + 1}/${ROUNDS}\n`);
    const order = round % 2 === 0 ? tools : [...tools].reverse();
    for (const tool of order) {
      const run = await restoreOnce(
        bench,
        tool,
        join(bench.home, `${tool.name}-${round}`),
        dropped,
      );
      process.stderr.write(describe(tool.name, run));
      runs.get(tool.name)?.push(run);
    }
  }
  return { gib, scale, clusterBytes, runs, dropped };
}

function requireTools(): void {
  for (const [program, args] of [
    ['pgbackrest', ['version']],
    [AWS_CLI, ['--version']],
    ['zstd', ['--version']],
    ['/usr/bin/time', ['-f', '', 'true']],
  ] as const) {
    try {
      execFileSync(program, [...args], { stdio: 'ignore' });
    } catch (error) {
      throw new Error(
        `bench/restore needs ${program}: install Debian's pgbackrest, awscli, zstd and time packages (.ci/debian-packages.txt)`,
        { cause: error },
      );
    }
  }
}

async function main(): Promise<void> {
  requireTools();
  const names = (process.env.BENCH_TOOLS ?? ALL_TOOLS.map((tool) => tool.name).join(',')).split(
    ',',
  );
  const tools = ALL_TOOLS.filter((tool) => names.includes(tool.name));
  const dir = await mkdtemp(join(tmpdir(), 'pgbackup-bench-restore-'));
  try {
    const bench = await startRestoreBench(dir);
    try {
      const loadAtStart = loadText();
      const sizes = [];
      for (const [index, gib] of SIZES_GIB.entries()) {
        sizes.push(await benchSize(bench, tools, gib, index));
      }
      printRestoreReport(sizes, ROUNDS, loadAtStart);
    } finally {
      await stopRestoreBench(bench);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
