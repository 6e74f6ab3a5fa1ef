/**
 * bench/compression: what a compression setting costs and saves. Our runner (`pgbackup run
 * -f`, file mode, as a CronJob runs it) backs the same pgbench database up into the same MinIO
 * (bench/peers' servers: TLS, a cgroup for exact CPU) once per setting, in rounds that
 * alternate the order, after one unmeasured backup; it prints per setting the median wall
 * time, database MB/s, CPU seconds (the runner and its pg_basebackup or pg_dump; the server's
 * walsender or dump session; MinIO), stored size and the ratio to the database.
 *
 *   BENCH_GIB=1 BENCH_ROUNDS=3 npx tsx bench/compression.ts                 # binary
 *   BENCH_KIND=logical BENCH_GIB=1 BENCH_ROUNDS=3 npx tsx bench/compression.ts
 *
 * BENCH_SETTINGS=a,b runs only the settings whose names contain one of these; BENCH_RUNNER=FILE
 * runs that bundle of the runner instead of building one.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureBuiltOperator } from '../test/harness/executor/built-operator.js';
import { loadSince, loadText } from './cpu-seconds.js';
import {
  benchDatabaseBytes,
  loadPgbench,
  type PeerServers,
  startPeerServers,
  stopPeerServers,
} from './peers/servers.js';
import { oursTool, type PeerRun } from './peers/tools.js';
import { median, printTable } from './runner-bench.js';

type Kind = 'binary' | 'logical';

/** One setting: its name and the fields it sets in spec.binary or spec.logical. */
interface Setting {
  readonly name: string;
  readonly fields: Readonly<Record<string, unknown>>;
}

/** The binary settings: zstd levels, zstd workers, gzip and lz4 at their fast ends. */
const BINARY_SETTINGS: readonly Setting[] = [
  { name: 'zstd 1', fields: { compression: 'zstd', compressionLevel: 1 } },
  { name: 'zstd 3 (default)', fields: { compression: 'zstd' } },
  { name: 'zstd 9', fields: { compression: 'zstd', compressionLevel: 9 } },
  { name: 'zstd 3 workers 1', fields: { compression: 'zstd', compressionWorkers: 1 } },
  { name: 'zstd 3 workers 2', fields: { compression: 'zstd', compressionWorkers: 2 } },
  {
    name: 'zstd 9 workers 2',
    fields: { compression: 'zstd', compressionLevel: 9, compressionWorkers: 2 },
  },
  { name: 'gzip 1', fields: { compression: 'gzip', compressionLevel: 1 } },
  { name: 'gzip 6', fields: { compression: 'gzip', compressionLevel: 6 } },
  { name: 'lz4 1', fields: { compression: 'lz4', compressionLevel: 1 } },
  { name: 'none', fields: { compression: 'none' } },
];

/** The logical settings a PostgreSQL 15 pg_dump writes: gzip levels, or none. */
const LOGICAL_SETTINGS: readonly Setting[] = [
  { name: 'gzip 1', fields: { compressionLevel: 1 } },
  { name: 'gzip (default, 6)', fields: {} },
  { name: 'gzip 9', fields: { compressionLevel: 9 } },
  { name: 'none', fields: { compression: 'none' } },
];

function settings() {
  const kind: Kind = process.env.BENCH_KIND === 'logical' ? 'logical' : 'binary';
  const only = process.env.BENCH_SETTINGS?.split(',').filter(Boolean);
  const all = kind === 'binary' ? BINARY_SETTINGS : LOGICAL_SETTINGS;
  return {
    kind,
    gib: Number(process.env.BENCH_GIB ?? 0.25),
    rounds: Number(process.env.BENCH_ROUNDS ?? 3),
    settings: all.filter((s) => only === undefined || only.some((word) => s.name.includes(word))),
  };
}

/** A setting as a tool: ours (bench/peers' runner, policy and checks) with its fields. */
function settingTool(servers: PeerServers, runner: string, kind: Kind, setting: Setting) {
  return oursTool(servers, `compression ${setting.name}`, {
    runner,
    type: kind,
    fields: setting.fields,
  });
}

const MB = 1e6;

function printRows(
  settingsRun: readonly Setting[],
  results: Map<string, PeerRun[]>,
  bytes: number,
) {
  const width = Math.max(7, ...settingsRun.map((s) => s.name.length));
  const of = (setting: Setting) => results.get(setting.name) ?? [];
  const med = (setting: Setting, value: (run: PeerRun) => number) => median(of(setting).map(value));
  printTable<Setting>(
    [
      ['setting'.padEnd(width), (s) => s.name.padEnd(width)],
      ['wall s', (s) => med(s, (run) => run.seconds).toFixed(1)],
      [
        'min-max s',
        (s) =>
          `${Math.min(...of(s).map((r) => r.seconds)).toFixed(1)}-${Math.max(...of(s).map((r) => r.seconds)).toFixed(1)}`,
      ],
      ['DB MB/s', (s) => (bytes / MB / med(s, (run) => run.seconds)).toFixed(1)],
      ['CPU s runner+tool', (s) => med(s, (run) => run.toolCpuSeconds).toFixed(1)],
      ['CPU s server', (s) => med(s, (run) => run.serverCpuSeconds).toFixed(1)],
      ['CPU s MinIO', (s) => med(s, (run) => run.minioCpuSeconds).toFixed(1)],
      ['stored MB', (s) => (med(s, (run) => run.storedBytes) / MB).toFixed(1)],
      ['stored/DB', (s) => (med(s, (run) => run.storedBytes) / bytes).toFixed(3)],
    ],
    settingsRun,
  );
}

const { kind, gib, rounds, settings: chosen } = settings();
// BENCH_RUNNER: a bundle of the runner kept elsewhere (the build cache may be pruned meanwhile).
const runner = process.env.BENCH_RUNNER ?? (await ensureBuiltOperator());
const dir = await mkdtemp(join(tmpdir(), 'pgbackup-bench-compression-'));
const servers = await startPeerServers(dir);
try {
  const scale = Math.max(1, Math.round(gib * 68));
  const clusterBytes = await loadPgbench(servers, scale);
  const bytes = kind === 'binary' ? clusterBytes : await benchDatabaseBytes(servers);
  const loadBefore = loadText();
  const first = chosen[0];
  if (first === undefined) throw new Error('BENCH_SETTINGS matches no setting');
  process.stderr.write('warm-up backup (unmeasured)…\n');
  await settingTool(servers, runner, kind, first).run(99);
  const results = new Map<string, PeerRun[]>(chosen.map((s) => [s.name, []]));
  for (let round = 0; round < rounds; round += 1) {
    const order = round % 2 === 0 ? chosen : [...chosen].reverse();
    const parts: string[] = [];
    for (const setting of order) {
      const run = await settingTool(servers, runner, kind, setting).run(round);
      results.get(setting.name)?.push(run);
      // Each run as it ends, so a bench cut short still leaves its figures.
      process.stderr.write(
        `    ${setting.name}: ${run.seconds.toFixed(1)} s, CPU ${run.toolCpuSeconds.toFixed(1)} + server ${run.serverCpuSeconds.toFixed(1)} + MinIO ${run.minioCpuSeconds.toFixed(1)} s, stored ${(run.storedBytes / MB).toFixed(1)} MB\n`,
      );
      parts.push(`${setting.name} ${run.seconds.toFixed(1)} s`);
    }
    process.stderr.write(
      `  round ${round + 1}/${rounds}: ${parts.join(', ')}; load ${loadText()}\n`,
    );
  }
  console.log(
    `\nbench/compression (${kind}): pgbench scale ${scale}, ${(bytes / 2 ** 30).toFixed(2)} GiB read; medians of ${rounds} rounds (order alternating, after one unmeasured backup); ${loadSince(loadBefore)}`,
  );
  printRows(chosen, results, bytes);
} finally {
  await stopPeerServers(servers);
  await rm(dir, { recursive: true, force: true });
}
