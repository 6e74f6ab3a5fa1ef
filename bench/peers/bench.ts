/**
 * What bench/binary and bench/logical share: their settings from the environment, the runner
 * built as the image runs it, the servers started and removed, one pgbench database per size
 * (loaded, measured, dropped), and the report: a table per size, the runner's peak RSS, the
 * time per GiB across sizes, and the load average.
 *
 *   BENCH_GIB=1,2       sizes in GiB of pgbench data (pgbench scale 68 per GiB); default 0.25
 *   BENCH_ROUNDS=5      measured rounds per size (after one unmeasured); default 5
 *   BENCH_LEVEL=3       the zstd level of every tool; default 3
 *   BENCH_TOOLS=a,b     only the tools whose names contain one of these (ours always runs)
 *   BENCH_CPU_PROF=DIR  the runner writes `node --cpu-prof` profiles there
 *   BENCH_NODE_OPTIONS  NODE_OPTIONS of the runner (default: the runner Job's, RUNNER_NODE_OPTIONS)
 *   BENCH_ENCRYPTION=1  also ours encrypting for an age key made per run: its cost against ours
 *   BENCH_MEMORY_PROBE=DIR  the runner writes its memory peaks there (./memory-probe.ts)
 */
import { copyFile, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { repoRoot } from '../../test/harness/env/layout.js';
import { ensureOperatorBuild } from '../../test/harness/executor/built-operator.js';
import { loadSince, loadText } from '../cpu-seconds.js';
import { type PeerResults, type PeerRow, peerRows, variantCost } from './peer-rows.js';
import { printPeerTable, printTimePerGib, runRounds } from './rounds.js';
import {
  dropPgbench,
  loadPgbench,
  type PeerServers,
  startPeerServers,
  stopPeerServers,
} from './servers.js';
import type { Compression, PeerTool } from './tools.js';

/** pgbench scale per GiB of data (tables and indexes). */
const SCALE_PER_GIB = 68;

/** What a bench measures. */
export interface PeerBenchSpec {
  /** `binary` or `logical`: its header and directory names. */
  readonly name: string;
  /** Its tools, the first ours, given the servers, the runner and the compression. */
  readonly tools: (servers: PeerServers, runner: string, compression: Compression) => PeerTool[];
  /** The bytes the bench reads: the cluster's (binary) or the database's (logical). */
  readonly databaseBytes: (servers: PeerServers, clusterBytes: number) => Promise<number>;
  /** What the header says about the compression. */
  readonly describe: (compression: Compression) => string;
}

function settings() {
  return {
    sizes: (process.env.BENCH_GIB ?? '0.25').split(',').map(Number),
    rounds: Number(process.env.BENCH_ROUNDS ?? 5),
    compression: { level: Number(process.env.BENCH_LEVEL ?? 3), workers: 0 },
    only: process.env.BENCH_TOOLS?.split(',').filter(Boolean),
    cpuProfileDir: process.env.BENCH_CPU_PROF,
  };
}

/**
 * The bundle the image runs, copied aside for the bench's whole run (a build by another test
 * run meanwhile prunes the cached one: a run lost its runner half-way so), beside its
 * package.json (the CLI reads its version there), inside the repository (its externals
 * resolve from node_modules). Returns the bundle and the directory to remove at the end.
 */
async function keepRunner(name: string): Promise<{ bundle: string; dir: string }> {
  const build = await ensureOperatorBuild();
  const dir = join(repoRoot, '.cache', `bench-${name}-${process.pid}`);
  await mkdir(join(dir, 'dist', 'bin'), { recursive: true });
  await copyFile(join(build.dir, 'package.json'), join(dir, 'package.json'));
  const bundle = join(dir, 'dist', 'bin', basename(build.bundle));
  await copyFile(build.bundle, bundle);
  return { bundle, dir };
}

/** What each variant of ours (encrypted) costs against the ours it varies, round by round. */
function printVariantCosts(
  tools: readonly PeerTool[],
  results: PeerResults,
  rows: readonly PeerRow[],
): void {
  for (const tool of tools) {
    if (tool.variantOfOurs !== true || tool.comparedWith === undefined) continue;
    const cost = variantCost(results, tool.name, tool.comparedWith);
    const rss = rows.find((row) => row.tool === tool.name)?.nodeRssBytes ?? 0;
    console.log(
      `${tool.name} / ${tool.comparedWith} (median of per-round ratios): wall ${cost.wall.toFixed(3)}, CPU ${cost.totalCpu.toFixed(3)} (the runner and its tool alone ${cost.toolCpu.toFixed(3)}), stored ${cost.stored.toFixed(4)}; its runner peak RSS ${(rss / 2 ** 20).toFixed(0)} MiB`,
    );
  }
}

export async function runPeerBench(spec: PeerBenchSpec): Promise<void> {
  const { sizes, rounds, compression, only } = settings();
  const runner = await keepRunner(spec.name);
  const dir = await mkdtemp(join(tmpdir(), `pgbackup-bench-${spec.name}-`));
  const servers = await startPeerServers(dir);
  try {
    const all = spec.tools(servers, runner.bundle, compression);
    const tools = all.filter(
      (tool, index) =>
        index === 0 ||
        tool.variantOfOurs === true ||
        only === undefined ||
        only.some((w) => tool.name.includes(w)),
    );
    const measured: { gib: number; rows: PeerRow[] }[] = [];
    const loadAtStart = loadText();
    for (const gib of sizes) {
      const scale = Math.max(1, Math.round(gib * SCALE_PER_GIB));
      const clusterBytes = await loadPgbench(servers, scale);
      const bytes = await spec.databaseBytes(servers, clusterBytes);
      const loadBefore = loadText();
      const results = await runRounds(tools, rounds);
      const rows = peerRows(tools, results, bytes);
      console.log(
        `\nbench/${spec.name}: pgbench scale ${scale}, ${(bytes / 2 ** 30).toFixed(2)} GiB read; medians of ${rounds} rounds (order alternating, after one unmeasured); ${spec.describe(compression)}; ${loadSince(loadBefore)}`,
      );
      printPeerTable(rows);
      const ours = rows.filter((row) => row.comparedWith === undefined);
      console.log(
        `runner peak RSS (node alone, worst round): ${ours.map((row) => `${row.tool} ${(row.nodeRssBytes / 2 ** 20).toFixed(0)} MiB`).join(', ')}`,
      );
      printVariantCosts(tools, results, rows);
      measured.push({ gib: bytes / 2 ** 30, rows });
      await dropPgbench(servers);
    }
    console.log('');
    printTimePerGib(measured);
    console.log(
      `CPU s: tool = its processes (${servers.cgroup === undefined ? 'those it waited for: no cgroup could be made' : 'exact, through a cgroup every process it started stays in'}); server = the postmaster's backends that ended meanwhile (walsender, a dump's session); MinIO = its process. ours/it CPU compares the sums. ${loadSince(loadAtStart)}`,
    );
  } finally {
    await stopPeerServers(servers);
    await rm(dir, { recursive: true, force: true });
    await rm(runner.dir, { recursive: true, force: true });
  }
}
