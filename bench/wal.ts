/**
 * bench/wal: our WAL receiver (`pgbackup wal-receive -f`, pg_receivewal onto a spool, then
 * our uploader; zstd, uploadInterval 10s) against pgBackRest's asynchronous archive-push
 * (Debian's `pgbackrest`: archive-async, a spool, process-max 2, zst), as Crunchy PGO runs it,
 * on the same pgbench load of the same primary into the same MinIO, in turns whose order
 * alternates by round. Prints medians per tool and the ratios of their lags.
 *
 *   npm run bench:wal                         # 3 rounds of 60 s of pgbench -c 4 -j 2, scale 10
 *   BENCH_ROUNDS=5 BENCH_SECONDS=60 BENCH_SCALE=10 BENCH_CLIENTS=4 npm run bench:wal
 *   BENCH_TOOLS=pgBackRest npm run bench:wal  # one tool only (ours, pgBackRest)
 *
 * It starts its own servers, on addresses .20 and .21 of the environment's subnet
 * (PGBACKUP_ENV_SUBNET, default 127.0.0), and removes them at the end: a PostgreSQL primary
 * (archive_mode on, which the shared primary does not allow) and a MinIO over TLS with a CA
 * it makes (pgBackRest's S3 repository must be TLS; our receiver trusts the CA through
 * NODE_EXTRA_CA_CERTS). It needs no `npm run env:up`.
 *
 * Each second it samples the primary's current LSN and the end of the WAL each tool has in
 * the bucket, read from the bucket itself: ours, the newest completed segment's end or the
 * `.partial`'s `end-lsn`; pgBackRest's, the end of the newest segment in its repository's
 * archive (it archives whole segments only). The lag in bytes is the difference; the lag in
 * seconds is how long ago the primary was where the bucket is (bench/wal-lag.ts). A turn
 * starts at a segment boundary both tools have stored (a WAL switch), after a CHECKPOINT.
 *
 * Memory: the peak of the tool's summed RSS, sampled 4 times a second (ours: the receiver's
 * node process and its pg_receivewal; pgBackRest: its asynchronous process and its workers),
 * and that peak in the first and the second half of the turn (flat or growing?).
 * CPU seconds: ours, the receiver, its pg_receivewal and the walsender that serves it;
 * pgBackRest, every process archive_command started and all they forked (the foreground
 * archive-push, the asynchronous process, its workers). Each tool's processes are counted
 * exactly through a cgroup of their own (bench/cpu-cgroup.ts, as root); where none can be
 * made, by sampling /proc, which misses most of pgBackRest's short-lived processes (the
 * output says "its cgroup" when the exact count was used). MinIO's CPU is a column of its own.
 * Per-process figures of each turn go to stderr.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { chmod, copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { HeadObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import type pg from 'pg';
import { stringify } from 'yaml';
import { WAL_RECEIVER_NODE_OPTIONS } from '../src/render/wal-receiver.js';
import {
  DEFAULT_WAL_SEGMENT_SIZE,
  parseLsn,
  parseWalFileName,
  segmentOf,
  segmentStartLsn,
} from '../src/retention/wal-names.js';
import { addresses, repoRoot } from '../test/harness/env/layout.js';
import { pgBinDir, postgresRunAs } from '../test/harness/env/postgres.js';
import { ensureOperatorBuild } from '../test/harness/executor/built-operator.js';
import {
  configurePgbackrest,
  listArchivedSegments,
  type PgbackrestRepo,
  pgbackrestProcesses,
} from '../test/harness/peers/pgbackrest.js';
import type { TlsMinio } from '../test/harness/peers/tls-minio.js';
import { type ScratchServer, startScratchPrimary } from '../test/harness/scratch-postgres.js';
import { type CpuCgroup, createCpuCgroup } from './cpu-cgroup.js';
import { loadText } from './cpu-seconds.js';
import { benchPolicy, MINIO_PORT, REGION, startBenchBase } from './peers/servers.js';
import {
  type ProcessStat,
  processTree,
  readProcessStat,
  type Selection,
  startProcessSampler,
} from './process-sampler.js';
import { printTable } from './runner-bench.js';
import { type LagSummary, median, summarizeLag, type WalSample } from './wal-lag.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const LOAD_SECONDS = Number(process.env.BENCH_SECONDS ?? 60);
const SCALE = Number(process.env.BENCH_SCALE ?? 10);
const CLIENTS = Number(process.env.BENCH_CLIENTS ?? 4);
/** The policy's spec.continuous.uploadInterval (bench/fixtures/wal-policy.yaml). */
const UPLOAD_INTERVAL_SECONDS = 10;
/** The goals: lag under twice the upload interval, RSS flat under 150 MB. */
const RSS_GOAL_BYTES = 150 * 1000 * 1000;
const SEGMENT = DEFAULT_WAL_SEGMENT_SIZE;
const MiB = 1024 * 1024;
const DATABASE = 'bench';
const BUCKET = 'pgbackup-bench-wal';
/** How long a tool may take to store what the load wrote once it ends. */
const DRAIN_TIMEOUT_MS = 120_000;

const subnet = addresses.primary.host.replace(/\.\d+$/, '');
const PG_HOST = `${subnet}.20`;
const MINIO_HOST = `${subnet}.21`;

/** One turn of one tool: its lag over the load, what it cost, how long it took to catch up. */
interface Turn extends LagSummary {
  readonly drainSeconds: number;
  readonly peakRssBytes: number;
  readonly peakRssBytesFirstHalf: number;
  readonly peakRssBytesSecondHalf: number;
  readonly cpuSeconds: number;
  readonly minioCpuSeconds: number;
}

/** A tool while it runs in a turn. */
interface RunningTool {
  /** The end of the WAL it has in the bucket. */
  archivedLsn(): Promise<bigint>;
  /** How far it must get once the load ends: ours, the end; pgBackRest, the last whole segment. */
  drainTarget(endLsn: bigint): bigint;
  /** The processes it is made of, from a snapshot of /proc. */
  select(stats: readonly ProcessStat[]): Selection;
  /** Starts counting the CPU it costs; the function returns what it cost since. */
  begin(): Promise<() => ToolCpu>;
  stop(): Promise<void>;
}

/**
 * CPU seconds of a tool's own processes: exact from its cgroup when the machine allows one,
 * else those the sampler saw plus `extraSeconds` (what it counts another way).
 */
interface ToolCpu {
  readonly exactSeconds?: number;
  readonly extraSeconds: number;
}

/** CPU seconds since now of a cgroup, or of nothing when there is none. */
function cgroupCpuSince(cgroup: CpuCgroup | undefined): () => ToolCpu {
  if (cgroup === undefined) return () => ({ extraSeconds: 0 });
  const before = cgroup.usageSeconds();
  return () => ({ exactSeconds: cgroup.usageSeconds() - before, extraSeconds: 0 });
}

interface Tool {
  readonly name: string;
  start(round: number): Promise<RunningTool>;
}

/** The bench's servers and where things are. */
interface Bench {
  readonly dir: string;
  readonly server: ScratchServer;
  readonly socketDir: string;
  readonly minio: TlsMinio;
  /** CPU accounting of each tool's processes, where the machine allows cgroups. */
  readonly cgroups: { readonly ours?: CpuCgroup; readonly pgbackrest?: CpuCgroup };
  readonly s3: S3Client;
  readonly admin: pg.Client;
  readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string };
}

async function query<Row extends Record<string, unknown>>(
  client: pg.Client,
  text: string,
): Promise<Row[]> {
  return (await client.query<Row>(text)).rows;
}

async function currentLsn(client: pg.Client): Promise<bigint> {
  const [row] = await query<{ lsn: string }>(client, 'SELECT pg_current_wal_lsn()::text AS lsn');
  const lsn = parseLsn(row?.lsn ?? '');
  if (lsn === undefined) throw new Error(`the primary answered no LSN (${row?.lsn})`);
  return lsn;
}

async function setArchiveCommand(client: pg.Client, command: string): Promise<void> {
  await client.query(`ALTER SYSTEM SET archive_command = ${client.escapeLiteral(command)}`);
  await client.query('SELECT pg_reload_conf()');
  // The archiver reads the new setting on its next wake-up; give it one.
  await sleep(1000);
}

function pgbenchArgs(args: readonly string[]): string[] {
  return [...args, '-h', PG_HOST, '-p', String(process.env.BENCH_PG_PORT), DATABASE];
}

function pgbenchEnv(): NodeJS.ProcessEnv {
  return { ...process.env, PGUSER: process.env.PGUSER, PGPASSWORD: process.env.PGPASSWORD };
}

function runPgbench(args: readonly string[]): ChildProcess {
  return spawn(join(pgBinDir(), 'pgbench'), pgbenchArgs(args), {
    env: pgbenchEnv(),
    stdio: ['ignore', 'ignore', 'pipe'],
  });
}

function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('close', (code) => resolve(code)));
}

async function runPgbenchToEnd(args: readonly string[]): Promise<void> {
  const child = runPgbench(args);
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const code = await exited(child);
  if (code !== 0) throw new Error(`pgbench ${args.join(' ')} failed (${code}):\n${stderr}`);
}

/** Waits until `check` is true, polling every 500 ms; fails naming `what` after `timeoutMs`. */
async function waitFor(what: string, timeoutMs: number, check: () => Promise<boolean>) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(500);
  }
}

// ---------------------------------------------------------------------------------------------
// Ours: pgbackup wal-receive -f POLICY --spool DIR, in file mode.

const WAL_SLOT_PATTERN = "slot_name LIKE 'pgbackup\\_wal\\_%'";

/** Every object under a prefix of the bench's bucket: its key and ETag. */
async function listObjects(bench: Bench, prefix: string): Promise<{ key: string; etag: string }[]> {
  const objects: { key: string; etag: string }[] = [];
  let token: string | undefined;
  do {
    const page = await bench.s3.send(
      new ListObjectsV2Command({
        Bucket: BUCKET,
        Prefix: prefix,
        ...(token === undefined ? {} : { ContinuationToken: token }),
      }),
    );
    for (const object of page.Contents ?? []) {
      objects.push({ key: object.Key ?? '', etag: object.ETag ?? '' });
    }
    token = page.IsTruncated === true ? page.NextContinuationToken : undefined;
  } while (token !== undefined);
  return objects;
}

/**
 * Where the WAL of one of our objects ends: a whole segment's end, or a partial's `end-lsn`
 * (read again only when the object changed; `heads` remembers); 0 for another object.
 */
async function oursObjectEnd(
  bench: Bench,
  object: { key: string; etag: string },
  heads: Map<string, bigint>,
): Promise<bigint> {
  const file = parseWalFileName(object.key.split('/').at(-1) ?? '', SEGMENT);
  if (file?.kind !== 'segment') return 0n;
  if (!file.partial) return segmentStartLsn(file.segment + 1n, SEGMENT);
  const version = `${object.key}@${object.etag}`;
  let end = heads.get(version);
  if (end === undefined) {
    const head = await bench.s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: object.key }));
    end = parseLsn(head.Metadata?.['end-lsn'] ?? '') ?? segmentStartLsn(file.segment, SEGMENT);
    heads.set(version, end);
  }
  return end;
}

/** The end of our WAL under `prefix`: the newest whole segment's end, or a partial's end-lsn. */
async function oursArchivedLsn(bench: Bench, prefix: string, heads: Map<string, bigint>) {
  let archived = 0n;
  for (const object of await listObjects(bench, `${prefix}/`)) {
    const end = await oursObjectEnd(bench, object, heads);
    if (end > archived) archived = end;
  }
  return archived;
}

async function writeOursPolicy(bench: Bench, file: string, prefix: string): Promise<void> {
  const policy = await benchPolicy('wal-policy.yaml', {
    host: `${PG_HOST}:${process.env.BENCH_PG_PORT}`,
    bucket: BUCKET,
    prefix,
    endpoint: bench.minio.endpoint,
  });
  await writeFile(file, stringify(policy));
}

async function activeWalSlotPid(admin: pg.Client): Promise<number | undefined> {
  const [row] = await query<{ pid: number | null }>(
    admin,
    `SELECT active_pid AS pid FROM pg_replication_slots WHERE ${WAL_SLOT_PATTERN} AND active`,
  );
  return row?.pid ?? undefined;
}

function oursTool(bench: Bench, runner: string): Tool {
  return {
    name: 'ours',
    start: async (round) => {
      const dir = join(bench.dir, `ours-${round}`);
      await mkdir(join(dir, 'spool'), { recursive: true });
      const prefix = `ours/round-${round}`;
      const policyFile = join(dir, 'policy.yaml');
      await writeOursPolicy(bench, policyFile, prefix);
      const log = join(dir, 'receiver.log');
      const logFd = openSync(log, 'w');
      const receiver = spawn(
        process.execPath,
        [
          runner,
          'wal-receive',
          '-f',
          policyFile,
          '--spool',
          join(dir, 'spool'),
          '--status-file',
          join(dir, 'status.json'),
        ],
        {
          cwd: repoRoot,
          stdio: ['ignore', logFd, logFd],
          env: {
            ...process.env,
            AWS_ACCESS_KEY_ID: bench.credentials.accessKeyId,
            AWS_SECRET_ACCESS_KEY: bench.credentials.secretAccessKey,
            AWS_REGION: REGION,
            // The bench's own server: stream as its superuser, whatever the shell exported.
            PGBACKUP_REPLICATION_USER: process.env.PGUSER,
            PGBACKUP_REPLICATION_PASSWORD: process.env.PGPASSWORD,
            NODE_EXTRA_CA_CERTS: bench.minio.caFile,
            // As the receiver's Deployment runs it (render/wal-receiver.ts).
            NODE_OPTIONS: WAL_RECEIVER_NODE_OPTIONS,
            AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
          },
        },
      );
      closeSync(logFd);
      // Before it starts pg_receivewal, which then belongs to the cgroup too.
      if (receiver.pid !== undefined) bench.cgroups.ours?.add(receiver.pid);
      const receiverExit = exited(receiver);
      const logTail = () => readFileSync(log, 'utf8').split('\n').slice(-20).join('\n');
      let walsenderPid: number | undefined;
      try {
        await waitFor('the receiver to stream from its slot', 60_000, async () => {
          if (receiver.exitCode !== null) {
            throw new Error(`the receiver exited (${receiver.exitCode}):\n${logTail()}`);
          }
          walsenderPid = await activeWalSlotPid(bench.admin);
          return walsenderPid !== undefined;
        });
      } catch (error) {
        receiver.kill('SIGKILL');
        throw error;
      }
      const heads = new Map<string, bigint>();
      const receiverPid = receiver.pid ?? -1;
      return {
        archivedLsn: () => oursArchivedLsn(bench, prefix, heads),
        drainTarget: (endLsn) => endLsn,
        select: (stats) => ({
          memoryAndCpu: processTree(receiverPid, stats),
          cpuOnly: stats.filter((stat) => stat.pid === walsenderPid),
        }),
        begin: async () => cgroupCpuSince(bench.cgroups.ours),
        stop: async () => {
          receiver.kill('SIGTERM');
          const code = await Promise.race([receiverExit, sleep(60_000, 'timeout' as const)]);
          if (code === 'timeout') receiver.kill('SIGKILL');
          else if (code !== 0)
            process.stderr.write(`  the receiver exited ${code}:\n${logTail()}\n`);
          await exited(receiver);
          // The slot is permanent: the next turn of ours starts from a new one and a new spool.
          await waitFor('the receiver to release its slot', 30_000, async () => {
            return (await activeWalSlotPid(bench.admin)) === undefined;
          });
          await bench.admin.query(
            `SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE ${WAL_SLOT_PATTERN}`,
          );
        },
      };
    },
  };
}

// ---------------------------------------------------------------------------------------------
// pgBackRest: archive_command = pgbackrest archive-push %p, asynchronous.

async function archiverPid(admin: pg.Client): Promise<number> {
  const [row] = await query<{ pid: number }>(
    admin,
    "SELECT pid FROM pg_stat_activity WHERE backend_type = 'archiver'",
  );
  if (row === undefined) throw new Error('the bench primary runs no archiver (archive_mode off?)');
  return row.pid;
}

async function archiverStats(admin: pg.Client): Promise<{ last: string; failed: number }> {
  const [row] = await query<{ last: string | null; failed: string }>(
    admin,
    'SELECT last_archived_wal AS last, failed_count::text AS failed FROM pg_stat_archiver',
  );
  return { last: row?.last ?? '', failed: Number(row?.failed ?? 0) };
}

/**
 * What the server says pgBackRest archived, against the bucket: the archiver's last segment
 * must be in the stanza's archive, and no archive_command may have failed in the turn (the
 * lag is read from the bucket; this says the two agree).
 */
async function confirmArchiver(bench: Bench, repo: PgbackrestRepo, failedBefore: number) {
  const { last, failed } = await archiverStats(bench.admin);
  const stored = await listArchivedSegments(bench.s3, BUCKET, repo);
  if (!stored.includes(last)) {
    throw new Error(
      `pg_stat_archiver says ${last} was archived but pgBackRest's archive in the bucket does not hold it; see ${join(bench.dir, 'pgbackrest', 'log')}`,
    );
  }
  if (failed > failedBefore) {
    process.stderr.write(
      `  pgBackRest: archive_command failed ${failed - failedBefore} times in this turn (pg_stat_archiver.failed_count); the server retried\n`,
    );
  }
}

function pgbackrestTool(bench: Bench, repo: PgbackrestRepo): Tool {
  const isAsync = (role: string) => role.endsWith(':async') || role.endsWith(':local');
  return {
    name: 'pgBackRest',
    start: async () => {
      const failedBefore = (await archiverStats(bench.admin)).failed;
      await setArchiveCommand(bench.admin, repo.archiveCommand);
      return {
        archivedLsn: async () => {
          const names = await listArchivedSegments(bench.s3, BUCKET, repo);
          const newest = parseWalFileName(names.at(-1) ?? '', SEGMENT);
          return newest?.kind === 'segment' ? segmentStartLsn(newest.segment + 1n, SEGMENT) : 0n;
        },
        drainTarget: (endLsn) => segmentStartLsn(segmentOf(endLsn, SEGMENT), SEGMENT),
        select: (stats) => {
          const pids = new Set(
            pgbackrestProcesses(repo.configFile)
              .filter((process) => isAsync(process.role))
              .map((process) => process.pid),
          );
          return { memoryAndCpu: stats.filter((stat) => pids.has(stat.pid)) };
        },
        begin: async () => {
          const pid = await archiverPid(bench.admin);
          const { pgbackrest: cgroup } = bench.cgroups;
          if (cgroup !== undefined) {
            // Every archive_command, and all that pgBackRest forks from it, is in the group.
            cgroup.add(pid);
            return cgroupCpuSince(cgroup);
          }
          // Without one: the foreground archive-push commands the archiver waited for (through
          // a shell) here, the asynchronous process and its workers by the sampler.
          const cpuOf = () => {
            const stat = readProcessStat(pid);
            return stat === undefined ? 0 : stat.cpuSeconds + stat.waitedChildrenCpuSeconds;
          };
          const before = cpuOf();
          return () => ({ extraSeconds: cpuOf() - before });
        },
        stop: async () => {
          await confirmArchiver(bench, repo, failedBefore);
          await setArchiveCommand(bench.admin, '/bin/true');
          await waitFor("pgBackRest's asynchronous archiver to end", 60_000, async () =>
            pgbackrestProcesses(repo.configFile).every((process) => !isAsync(process.role)),
          );
        },
      };
    },
  };
}

// ---------------------------------------------------------------------------------------------
// A turn: one tool, one load.

/** Writes a row and switches WAL: the new segment starts at the returned LSN. */
async function switchWal(admin: pg.Client): Promise<bigint> {
  await admin.query('INSERT INTO bench_switch VALUES (now())');
  await admin.query('SELECT pg_switch_wal()');
  return currentLsn(admin);
}

async function sampleOnce(bench: Bench, tool: RunningTool, floor: bigint): Promise<WalSample> {
  const atMs = Date.now();
  const [primaryLsn, archived] = await Promise.all([currentLsn(bench.admin), tool.archivedLsn()]);
  return { atMs, primaryLsn, archivedLsn: archived > floor ? archived : floor };
}

/** Samples once a second (on the second since `startMs`) while `running()`. */
async function sampleWhile(
  bench: Bench,
  tool: RunningTool,
  floor: bigint,
  running: () => boolean,
): Promise<WalSample[]> {
  const samples: WalSample[] = [];
  const startMs = Date.now();
  for (let tick = 1; running(); tick += 1) {
    samples.push(await sampleOnce(bench, tool, floor));
    const wait = startMs + tick * 1000 - Date.now();
    if (wait > 0) await sleep(wait);
  }
  return samples;
}

async function runTurn(bench: Bench, tool: Tool, round: number): Promise<Turn> {
  await bench.admin.query('CHECKPOINT');
  const running = await tool.start(round);
  try {
    const startLsn = await switchWal(bench.admin);
    await waitFor(`${tool.name} to store the WAL before the load`, 60_000, async () => {
      return (await running.archivedLsn()) >= startLsn;
    });
    const minioBefore = readProcessStat(bench.minio.pid)?.cpuSeconds ?? 0;
    const hiddenCpu = await running.begin();
    const sampler = startProcessSampler(running.select);
    const load = runPgbench(['-c', String(CLIENTS), '-j', '2', '-T', String(LOAD_SECONDS)]);
    let loadRunning = true;
    const loadExit = exited(load).then((code) => {
      loadRunning = false;
      return code;
    });
    const samples = await sampleWhile(bench, running, startLsn, () => loadRunning);
    if ((await loadExit) !== 0) throw new Error(`pgbench's load failed (${load.exitCode})`);
    samples.push(await sampleOnce(bench, running, startLsn));
    const endLsn = (samples.at(-1) as WalSample).primaryLsn;
    const drainStart = Date.now();
    await waitFor(`${tool.name} to store the load's WAL`, DRAIN_TIMEOUT_MS, async () => {
      return (await running.archivedLsn()) >= running.drainTarget(endLsn);
    });
    const drainSeconds = (Date.now() - drainStart) / 1000;
    const { byName, memoryProcessesCpuSeconds, ...tally } = sampler.stop();
    const toolCpu = hiddenCpu();
    const ownCpu = toolCpu.exactSeconds ?? memoryProcessesCpuSeconds + toolCpu.extraSeconds;
    const turn: Turn = {
      ...summarizeLag(samples),
      drainSeconds,
      ...tally,
      // The tool's processes, and the walsender that serves ours.
      cpuSeconds: ownCpu + tally.cpuSeconds - memoryProcessesCpuSeconds,
      minioCpuSeconds: (readProcessStat(bench.minio.pid)?.cpuSeconds ?? 0) - minioBefore,
    };
    const parts = [
      ...(toolCpu.exactSeconds === undefined
        ? []
        : [`its cgroup ${toolCpu.exactSeconds.toFixed(1)} s`]),
      ...[...byName].map(
        // Node names its main thread so; the sampler sees the receiver's node process by it.
        ([name, use]) =>
          `${name === 'MainThread' ? 'node' : name} ${use.cpuSeconds.toFixed(1)} s ${(use.peakRssBytes / MiB).toFixed(0)} MiB`,
      ),
    ].join(', ');
    process.stderr.write(
      `  ${tool.name}: ${(turn.generatedBytesPerSecond / MiB).toFixed(1)} MiB/s of WAL, lag max ${turn.maxLagSeconds.toFixed(1)} s / ${(turn.maxLagBytes / MiB).toFixed(1)} MiB, median ${turn.medianLagSeconds.toFixed(1)} s, drain ${drainSeconds.toFixed(1)} s, peak RSS ${(turn.peakRssBytes / MiB).toFixed(0)} MiB, CPU ${turn.cpuSeconds.toFixed(1)} s (${parts}), load ${loadText()}\n`,
    );
    return turn;
  } finally {
    await running.stop();
  }
}

// ---------------------------------------------------------------------------------------------
// Set-up and the report.

async function startBench(dir: string): Promise<Bench> {
  const { credentials, socketDir, minio } = await startBenchBase(dir, MINIO_HOST, BUCKET);
  try {
    const server = await startScratchPrimary(PG_HOST, [
      // archive_command is set with ALTER SYSTEM, which a command-line setting would override.
      'archive_mode=on',
      `unix_socket_directories=${socketDir}`,
    ]);
    process.env.BENCH_PG_PORT = String(server.port);
    const admin = server.client('postgres');
    await admin.connect();
    await setArchiveCommand(admin, '/bin/true');
    const cgroups = {
      ours: createCpuCgroup(`pgbackup-bench-wal-${process.pid}-ours`),
      pgbackrest: createCpuCgroup(`pgbackup-bench-wal-${process.pid}-pgbackrest`),
    };
    return { dir, server, socketDir, minio, cgroups, s3: minio.client(), admin, credentials };
  } catch (error) {
    await minio.stop();
    throw error;
  }
}

async function stopBench(bench: Bench): Promise<void> {
  await bench.admin.end().catch(() => undefined);
  bench.s3.destroy();
  await bench.server.stop();
  await bench.minio.stop();
  for (const cgroup of Object.values(bench.cgroups)) {
    try {
      cgroup?.remove();
    } catch (error) {
      process.stderr.write(`could not remove a cgroup of the bench: ${String(error)}\n`);
    }
  }
}

async function prepareDatabase(bench: Bench): Promise<void> {
  await bench.admin.query(`CREATE DATABASE ${DATABASE}`);
  await bench.admin.query('CREATE TABLE bench_switch (at timestamptz)');
  process.stderr.write(`pgbench -i -s ${SCALE}…\n`);
  await runPgbenchToEnd(['-i', '-q', '-s', String(SCALE)]);
}

async function configureBenchPgbackrest(bench: Bench): Promise<PgbackrestRepo> {
  return configurePgbackrest({
    dir: join(bench.dir, 'pgbackrest'),
    stanza: 'bench',
    server: {
      dataDir: join(bench.server.dir, 'data'),
      port: bench.server.port,
      socketDir: bench.socketDir,
      user: 'postgres',
      runAs: postgresRunAs(),
    },
    s3: {
      host: MINIO_HOST,
      port: MINIO_PORT,
      bucket: BUCKET,
      region: REGION,
      caFile: bench.minio.caFile,
      ...bench.credentials,
    },
    repoPath: '/pgbackrest',
    compressType: 'zst',
    processMax: 2,
  });
}

/** Medians over rounds of each measure of a tool's turns. */
function medianTurn(turns: readonly Turn[]): Turn {
  const of = (value: (turn: Turn) => number) => median(turns.map(value));
  return {
    generatedBytesPerSecond: of((turn) => turn.generatedBytesPerSecond),
    archivedBytesPerSecond: of((turn) => turn.archivedBytesPerSecond),
    maxLagBytes: of((turn) => turn.maxLagBytes),
    medianLagBytes: of((turn) => turn.medianLagBytes),
    maxLagSeconds: of((turn) => turn.maxLagSeconds),
    medianLagSeconds: of((turn) => turn.medianLagSeconds),
    drainSeconds: of((turn) => turn.drainSeconds),
    peakRssBytes: of((turn) => turn.peakRssBytes),
    peakRssBytesFirstHalf: of((turn) => turn.peakRssBytesFirstHalf),
    peakRssBytesSecondHalf: of((turn) => turn.peakRssBytesSecondHalf),
    cpuSeconds: of((turn) => turn.cpuSeconds),
    minioCpuSeconds: of((turn) => turn.minioCpuSeconds),
  };
}

function report(results: ReadonlyMap<string, Turn[]>, loadAtStart: string): void {
  const ours = results.get('ours') ?? [];
  const theirs = results.get('pgBackRest') ?? [];
  const rows = [...results].map(([tool, turns]) => ({ tool, ...medianTurn(turns) }));
  const mb = (bytes: number) => (bytes / MiB).toFixed(1);
  console.log(
    `bench/wal: medians of ${ROUNDS} rounds of pgbench -c ${CLIENTS} -j 2 -T ${LOAD_SECONDS} (scale ${SCALE}), zstd, uploadInterval ${UPLOAD_INTERVAL_SECONDS}s; load average ${loadAtStart} at the start, ${loadText()} at the end`,
  );
  printTable(
    [
      ['tool      ', (row) => row.tool.padEnd(10)],
      ['WAL MiB/s', (row) => mb(row.generatedBytesPerSecond)],
      ['archived MiB/s', (row) => mb(row.archivedBytesPerSecond)],
      ['lag max MiB', (row) => mb(row.maxLagBytes)],
      ['lag median MiB', (row) => mb(row.medianLagBytes)],
      ['lag max s', (row) => row.maxLagSeconds.toFixed(1)],
      ['lag median s', (row) => row.medianLagSeconds.toFixed(1)],
      ['drain s', (row) => row.drainSeconds.toFixed(1)],
      ['peak RSS MiB', (row) => mb(row.peakRssBytes)],
      [
        'RSS 1st/2nd half MiB',
        (row) => `${mb(row.peakRssBytesFirstHalf)}/${mb(row.peakRssBytesSecondHalf)}`,
      ],
      ['CPU s', (row) => row.cpuSeconds.toFixed(1)],
      ['MinIO CPU s', (row) => row.minioCpuSeconds.toFixed(1)],
    ],
    rows,
  );
  if (ours.length === 0 || theirs.length === 0) return;
  // Ratios round by round (both tools ran the same round), then their median.
  const ratio = (value: (turn: Turn) => number) =>
    median(ours.map((turn, index) => value(turn) / Math.max(value(theirs[index] ?? turn), 1e-9)));
  console.log(
    `ours/pgBackRest: lag max s ${ratio((turn) => turn.maxLagSeconds).toFixed(2)}, lag median s ${ratio((turn) => turn.medianLagSeconds).toFixed(2)}, lag max bytes ${ratio((turn) => turn.maxLagBytes).toFixed(2)}, CPU s ${ratio((turn) => turn.cpuSeconds).toFixed(2)}`,
  );
  const worstLag = Math.max(...ours.map((turn) => turn.maxLagSeconds));
  const worstRss = Math.max(...ours.map((turn) => turn.peakRssBytes));
  const goal = (met: boolean) => (met ? 'met' : 'NOT met');
  console.log(
    `goals (every round): our lag under 2 × uploadInterval = ${2 * UPLOAD_INTERVAL_SECONDS} s: ${goal(worstLag < 2 * UPLOAD_INTERVAL_SECONDS)} (worst ${worstLag.toFixed(1)} s); our RSS under 150 MB: ${goal(worstRss < RSS_GOAL_BYTES)} (worst ${(worstRss / 1e6).toFixed(0)} MB)`,
  );
}

/**
 * The bundle the image runs, copied aside for the bench's whole run: a build by another test
 * run meanwhile may prune the cached one. Beside its package.json (the CLI reads its version
 * there), inside the repository (so its externals resolve from node_modules).
 */
async function keepRunner(): Promise<string> {
  const build = await ensureOperatorBuild();
  const dir = join(repoRoot, '.cache', `bench-wal-${process.pid}`);
  await mkdir(join(dir, 'dist', 'bin'), { recursive: true });
  await copyFile(join(build.dir, 'package.json'), join(dir, 'package.json'));
  const bundle = join(dir, 'dist', 'bin', basename(build.bundle));
  await copyFile(build.bundle, bundle);
  return bundle;
}

/** pgBackRest is Debian's package; say how to get it rather than fail half-way. */
function requirePgbackrest(): void {
  try {
    execFileSync('pgbackrest', ['version'], { stdio: 'ignore' });
  } catch (error) {
    throw new Error(
      "bench/wal needs pgBackRest: install Debian's package with `apt-get install pgbackrest` (listed in .ci/debian-packages.txt)",
      { cause: error },
    );
  }
}

/** The rounds, on servers of the bench's own in `dir`. */
async function benchRounds(dir: string, runner: string, names: readonly string[]): Promise<void> {
  const bench = await startBench(dir);
  try {
    await prepareDatabase(bench);
    const repo = await configureBenchPgbackrest(bench);
    const tools = [oursTool(bench, runner), pgbackrestTool(bench, repo)].filter((tool) =>
      names.includes(tool.name),
    );
    process.stderr.write('warm-up: 10 s of pgbench with no archiving…\n');
    await runPgbenchToEnd(['-c', String(CLIENTS), '-j', '2', '-T', '10']);
    const loadAtStart = loadText();
    const results = new Map<string, Turn[]>(tools.map((tool) => [tool.name, []]));
    for (let round = 0; round < ROUNDS; round += 1) {
      process.stderr.write(`round ${round + 1}/${ROUNDS}\n`);
      const order = round % 2 === 0 ? tools : [...tools].reverse();
      for (const tool of order) results.get(tool.name)?.push(await runTurn(bench, tool, round));
    }
    report(results, loadAtStart);
  } finally {
    await stopBench(bench);
  }
}

async function main(): Promise<void> {
  requirePgbackrest();
  const names = (process.env.BENCH_TOOLS ?? 'ours,pgBackRest').split(',');
  const runner = names.includes('ours') ? await keepRunner() : '';
  const dir = await mkdtemp(join(tmpdir(), 'pgbackup-bench-wal-'));
  try {
    // The server's account must reach its socket and pgBackRest's directories in here.
    await chmod(dir, 0o755);
    await benchRounds(dir, runner, names);
  } finally {
    await rm(dir, { recursive: true, force: true });
    if (runner !== '') await rm(join(runner, '..', '..', '..'), { recursive: true, force: true });
  }
}

await main();
