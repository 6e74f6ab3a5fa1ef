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
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { repoRoot } from '../test/harness/env/layout.js';
import { ensureBuiltOperator } from '../test/harness/executor/built-operator.js';
import { loadSince, loadText } from './cpu-seconds.js';
import { measureCommand, type ToolRun } from './peers/measure.js';
import {
  BUCKET,
  benchDatabaseBytes,
  deletePrefix,
  listObjects,
  loadPgbench,
  type PeerServers,
  PG_HOST,
  REGION,
  startPeerServers,
  stopPeerServers,
} from './peers/servers.js';
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

/** Seen settings' runs and what they stored. */
interface Run extends ToolRun {
  readonly storedBytes: number;
}

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

const slug = (name: string) => name.replace(/\W+/g, '-');

async function writePolicy(servers: PeerServers, kind: Kind, setting: Setting, prefix: string) {
  const fixture = kind === 'binary' ? 'binary-policy.yaml' : 'logical-policy.yaml';
  const policy = parse(await readFile(join(repoRoot, 'bench', 'fixtures', fixture), 'utf8'));
  policy.spec.target.hosts = [`${PG_HOST}:${servers.server.port}`];
  Object.assign(policy.spec.storage.s3, {
    bucket: BUCKET,
    prefix,
    endpoint: servers.minio.endpoint,
    region: REGION,
  });
  if (kind === 'binary') Object.assign(policy.spec.binary, setting.fields);
  else
    Object.assign(
      policy.spec.logical,
      { databases: ['bench'], fallbackToPrimary: true },
      setting.fields,
    );
  const file = join(servers.dir, `compression-${slug(setting.name)}.yaml`);
  await writeFile(file, stringify(policy));
  return file;
}

/** One backup of a setting, measured; its objects are deleted afterwards. */
interface Bench {
  readonly servers: PeerServers;
  readonly runner: string;
  readonly kind: Kind;
}

async function runOnce(
  { servers, runner, kind }: Bench,
  setting: Setting,
  round: number,
): Promise<Run> {
  const prefix = `compression-${slug(setting.name)}/r${round}`;
  const policy = await writePolicy(servers, kind, setting, prefix);
  const [line, at] =
    kind === 'binary' ? ['daily', '2026-03-02T01:30:00Z'] : ['weekly', '2026-03-01T02:30:00Z'];
  try {
    const run = await measureCommand(
      {
        command: process.execPath,
        args: [runner, 'run', '--type', kind, '--line', line, '-f', policy, '--at', at],
        cwd: repoRoot,
        env: {
          PATH: process.env.PATH,
          HOME: servers.dir,
          PGUSER: process.env.PGUSER,
          PGPASSWORD: process.env.PGPASSWORD,
          AWS_ACCESS_KEY_ID: servers.credentials.accessKeyId,
          AWS_SECRET_ACCESS_KEY: servers.credentials.secretAccessKey,
          AWS_REGION: REGION,
          NODE_EXTRA_CA_CERTS: servers.caFile,
          AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
        },
      },
      servers.accounting,
    );
    const stored = await listObjects(servers, `${prefix}/`);
    const manifests = stored.filter((object) => object.key.endsWith('manifest.json'));
    if (manifests.length !== 1) {
      throw new Error(`${setting.name}: the run committed no backup:\n${run.stderr.slice(-2000)}`);
    }
    return { ...run, storedBytes: stored.reduce((sum, object) => sum + object.size, 0) };
  } finally {
    await deletePrefix(servers, `${prefix}/`);
  }
}

const MB = 1e6;

function printRows(settingsRun: readonly Setting[], results: Map<string, Run[]>, bytes: number) {
  const width = Math.max(7, ...settingsRun.map((s) => s.name.length));
  const of = (setting: Setting) => results.get(setting.name) ?? [];
  const med = (setting: Setting, value: (run: Run) => number) => median(of(setting).map(value));
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
  const bench: Bench = { servers, runner, kind };
  const first = chosen[0];
  if (first === undefined) throw new Error('BENCH_SETTINGS matches no setting');
  process.stderr.write('warm-up backup (unmeasured)…\n');
  await runOnce(bench, first, 99);
  const results = new Map<string, Run[]>(chosen.map((s) => [s.name, []]));
  for (let round = 0; round < rounds; round += 1) {
    const order = round % 2 === 0 ? chosen : [...chosen].reverse();
    const parts: string[] = [];
    for (const setting of order) {
      const run = await runOnce(bench, setting, round);
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
