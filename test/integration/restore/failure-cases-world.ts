/**
 * The world of the three failure cases (failure-cases.test.ts): a scratch primary with data
 * checksums, a database `shop` holding `customers` (the table that is damaged) and `marker`
 * (a row stamped with clock_timestamp() every 100 ms), a policy taking binary and logical
 * backups with the WAL receiver streaming into the bucket, and the steps a person takes when
 * something breaks: stop/start the server, restore from the bucket, copy rows back with psql.
 */
import { execFile } from 'node:child_process';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type pg from 'pg';
import { parse, stringify } from 'yaml';
import { formatLsn, parseLsn } from '../../../src/retention/wal-names.js';
import { type CatalogEntry, createS3Store, policyKeyPrefix } from '../../../src/storage/index.js';
import { postgresRunAs } from '../../harness/env/postgres.js';
import { runTool } from '../../harness/env/processes.js';
import {
  type RunOutcome,
  runEnvironment,
  runPgbackup,
  startPgbackup,
} from '../../harness/pgbackup-run.js';
import { withClient } from '../../harness/postgres.js';
import { type RestoredServer, startRestoredServer } from '../../harness/restore.js';
import { type ScratchServer, startScratchPrimary } from '../../harness/scratch-postgres.js';
import { buildForOtherUsers, type SharedRuntime } from '../../harness/shared-build.js';
import { requireEnv } from '../../harness/variables.js';
import { hostOf } from '../logical/scratch-pair.js';
import {
  bucketContinuity,
  currentLsn,
  SCRATCH_RECEIVER_ENV,
  type StartedReceiver,
  startReceiver,
  type WalPolicy,
  waitFor,
  waitStreaming,
  walStoreOf,
  walTestHost,
  writeWalPolicy,
} from '../wal/receiver-harness.js';
import { restoreParentDir } from './restore-run.js';

/** The database the cases damage and restore. */
export const DATABASE = 'shop';
const ENV = runEnvironment(SCRATCH_RECEIVER_ENV);
const PG_BIN = () => requireEnv('PGBACKUP_PG_BIN');

/** A committed marker. */
export interface Marker {
  readonly id: number;
  /** clock_timestamp() of the insert, microseconds since the epoch. */
  readonly micros: number;
}

/** A primary, its policy and receiver. */
export interface World {
  readonly server: ScratchServer;
  readonly policy: WalPolicy;
  receiver: StartedReceiver | undefined;
  readonly markers: Marker[];
  readonly dataDir: string;
}

/** Where a server listens, as psql and pg_amcheck take it. */
export interface Address {
  readonly host: string;
  readonly port: number;
}

/** libpq's login for the command-line tools: in the environment, never on the command line. */
const LOGIN = () => ({ PGUSER: requireEnv('PGUSER'), PGPASSWORD: requireEnv('PGPASSWORD') });

/** `customers`: 3000 rows over several pages, a third of them in Lyon. */
const SCHEMA = `
  CREATE TABLE customers (id int PRIMARY KEY, name text NOT NULL, city text NOT NULL);
  INSERT INTO customers
    SELECT n, 'customer ' || n || ' ' || repeat(md5(n::text), 2),
           (ARRAY['Lyon', 'Porto', 'Turku'])[n % 3 + 1]
    FROM generate_series(1, 3000) AS n;
  CREATE TABLE marker (id bigserial PRIMARY KEY, at timestamptz NOT NULL);`;

/**
 * Starts a primary with data checksums on `walTestHost(octet)`, creates `shop`, writes the
 * policy (binary daily, logical weekly of `shop`, continuous with `uploadInterval`) and starts
 * the receiver.
 */
export async function startWorld(
  name: string,
  octet: number,
  uploadInterval: string,
): Promise<World> {
  const server = await startScratchPrimary(walTestHost(octet), [], { dataChecksums: true });
  await withClient(server.client('postgres'), (client) =>
    client.query(`CREATE DATABASE ${DATABASE}`),
  );
  await withClient(server.client(DATABASE), (client) => client.query(SCHEMA));
  const policy = await writeWalPolicy({ hosts: [hostOf(server)], name, uploadInterval });
  const document = parse(await readFile(policy.file, 'utf8'));
  // One server, no replica: the logical backup dumps the primary.
  document.spec.logical = { lines: { weekly: 4 }, databases: [DATABASE], fallbackToPrimary: true };
  await writeFile(policy.file, stringify(document));
  // The restore and wal-fetch run as postgres: they read the policy file.
  await chmod(policy.dir, 0o755);
  await chmod(policy.file, 0o644);
  const receiver = startReceiver(policy);
  await waitStreaming(receiver);
  return { server, policy, receiver, markers: [], dataDir: join(server.dir, 'data') };
}

/** Stops what the world started and removes its directories. */
export async function stopWorld(world: World | undefined): Promise<void> {
  if (world === undefined) return;
  await world.receiver?.stop();
  await runTool(join(PG_BIN(), 'pg_ctl'), ['stop', '-D', world.dataDir, '-m', 'immediate'], {
    runAs: postgresRunAs(),
  }).catch(() => undefined);
  await world.server.stop();
}

/**
 * Runs a binary (`daily`) or logical (`weekly`) backup of the world's policy with the runner,
 * as of `at` (a Sunday, 01:30 or 01:40, by default).
 */
export function backupRun(
  world: World,
  type: 'binary' | 'logical',
  at = type === 'binary' ? '2026-03-01T01:30:00Z' : '2026-03-01T01:40:00Z',
): Promise<RunOutcome> {
  const line = type === 'binary' ? 'daily' : 'weekly';
  return runPgbackup(['--type', type, '--line', line, '-f', world.policy.file, '--at', at], ENV);
}

/** A backup that must succeed (see {@link backupRun}). */
export async function takeBackup(world: World, type: 'binary' | 'logical'): Promise<void> {
  const run = await backupRun(world, type);
  if (run.code !== 0) throw new Error(`the ${type} backup failed:\n${run.stderr}`);
}

/** Commits a marker every 100 ms until stopped (or the server dies), appending to `markers`. */
export function startMarkers(world: World): () => Promise<void> {
  let running = true;
  const done = (async () => {
    const client = world.server.client(DATABASE);
    client.on('error', () => undefined);
    await client.connect();
    try {
      while (running) {
        const result = await client.query<{ id: string; micros: string }>(
          'INSERT INTO marker (at) VALUES (clock_timestamp()) RETURNING id::text, (extract(epoch FROM at) * 1000000)::bigint::text AS micros',
        );
        const row = result.rows[0];
        if (row !== undefined)
          world.markers.push({ id: Number(row.id), micros: Number(row.micros) });
        await sleep(100);
      }
    } catch {
      // The server died: the last acknowledged commit is the newest.
    } finally {
      await client.end().catch(() => undefined);
    }
  })();
  return async () => {
    running = false;
    await done;
  };
}

/** The server's clock now, in microseconds: an instant after every commit acknowledged so far. */
export async function serverNow(world: World): Promise<number> {
  return withClient(world.server.client(DATABASE), async (client) => {
    const result = await client.query<{ micros: string }>(
      'SELECT (extract(epoch FROM clock_timestamp()) * 1000000)::bigint::text AS micros',
    );
    return Number(result.rows[0]?.micros);
  });
}

/** Closes the current WAL segment and waits until the bucket holds the WAL up to now. */
export async function waitArchived(world: World): Promise<void> {
  const lsn = await withClient(world.server.client(DATABASE), async (client) => {
    await client.query('SELECT pg_switch_wal()');
    return currentLsn(client);
  });
  await waitFor(
    `the bucket reaching ${formatLsn(lsn)}`,
    async () => ((await bucketContinuity(walStoreOf(world.policy))).newestLsn ?? 0n) >= lsn,
    90_000,
    world.receiver,
  );
}

/** An instant in microseconds as --target-time takes it (UTC, to the microsecond). */
export function instant(micros: number): string {
  const iso = new Date(Math.floor(micros / 1000)).toISOString();
  return `${iso.slice(0, 19)}.${String(micros % 1_000_000).padStart(6, '0')}Z`;
}

/** The ids of the markers committed at or before `micros`. */
export function markerIdsUpTo(markers: readonly Marker[], micros: number): number[] {
  return markers.filter((marker) => marker.micros <= micros).map((marker) => marker.id);
}

/** Row count and md5 of `customers` in id order: equal fingerprints, equal tables. */
export async function customersFingerprint(client: pg.Client): Promise<string> {
  const result = await client.query<{ rows: string; md5: string }>(
    "SELECT count(*)::text AS rows, md5(string_agg(c::text, E'\\n' ORDER BY id)) AS md5 FROM customers c",
  );
  return `${result.rows[0]?.rows} rows, md5 ${result.rows[0]?.md5}`;
}

/** The markers a server holds, in id order. */
export async function markersOf(client: pg.Client): Promise<Marker[]> {
  const result = await client.query<{ id: string; micros: string }>(
    'SELECT id::text, (extract(epoch FROM at) * 1000000)::bigint::text AS micros FROM marker ORDER BY marker.id',
  );
  return result.rows.map((row) => ({ id: Number(row.id), micros: Number(row.micros) }));
}

/** The world's primary as the command-line tools reach it. */
export function addressOf(server: { host: string; port: number }): Address {
  return { host: server.host, port: server.port };
}

/** What a command printed and how it ended (a non-zero exit does not throw). */
export interface CommandOutcome {
  readonly code: number;
  readonly output: string;
}

/** Runs a PostgreSQL client tool against `address` with libpq's login in the environment. */
export function pgTool(
  tool: string,
  address: Address,
  args: readonly string[],
): Promise<CommandOutcome> {
  return new Promise((resolve) => {
    execFile(
      join(PG_BIN(), tool),
      ['-h', address.host, '-p', String(address.port), ...args],
      { env: { ...process.env, ...LOGIN() }, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : 1;
        resolve({ code, output: `${stdout}${stderr}` });
      },
    );
  });
}

/** `pg_amcheck --heapallindexed` of `shop` (the amcheck extension installed if missing). */
export function amcheck(address: Address): Promise<CommandOutcome> {
  return pgTool('pg_amcheck', address, [
    '--install-missing',
    '--heapallindexed',
    '--database',
    DATABASE,
  ]);
}

async function psql(address: Address, database: string, command: string): Promise<string> {
  const run = await pgTool('psql', address, [
    '--dbname',
    database,
    '--no-psqlrc',
    '--set=ON_ERROR_STOP=1',
    '--command',
    command,
  ]);
  if (run.code !== 0) throw new Error(`psql ${command} failed:\n${run.output}`);
  return run.output;
}

/**
 * Moves the damaged `customers` aside on the primary and creates it again, empty, with the same
 * columns, constraints and indexes, for the rows to be copied back into (docs/recovery.md).
 */
export async function setDamagedTableAside(address: Address): Promise<void> {
  await psql(address, DATABASE, 'ALTER TABLE customers RENAME TO customers_damaged');
  await psql(address, DATABASE, 'CREATE TABLE customers (LIKE customers_damaged INCLUDING ALL)');
}

/**
 * Copies the rows of `customers` that the primary lacks back from a restored copy, as
 * docs/recovery.md tells: `\copy` out of the copy into a file, into a staging table on the
 * primary, `INSERT … WHERE NOT EXISTS`. Returns psql's "INSERT 0 n".
 */
export async function copyRowsBack(
  from: Address & { readonly database: string },
  to: Address,
): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'pgbackup-copy-back-'));
  const file = join(dir, 'customers.csv');
  try {
    await psql(from, from.database, `\\copy customers TO '${file}' (FORMAT csv)`);
    await psql(to, DATABASE, 'CREATE TABLE customers_restored (LIKE customers)');
    await psql(to, DATABASE, `\\copy customers_restored FROM '${file}' (FORMAT csv)`);
    const inserted = await psql(
      to,
      DATABASE,
      'INSERT INTO customers SELECT r.* FROM customers_restored r WHERE NOT EXISTS (SELECT 1 FROM customers c WHERE c.id = r.id)',
    );
    await psql(to, DATABASE, 'DROP TABLE customers_restored');
    return inserted.trim();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * Stops the primary cleanly (pg_ctl stop -m fast: every page written), runs `damage` on the
 * stopped data directory, and starts it again on the same address (its receiver reconnects).
 */
export async function withPrimaryStopped(world: World, damage: () => Promise<void>): Promise<void> {
  const runAs = postgresRunAs();
  const pgCtl = join(PG_BIN(), 'pg_ctl');
  await runTool(pgCtl, ['stop', '-D', world.dataDir, '-m', 'fast', '-w'], { runAs });
  await damage();
  const sockets = await mkdtemp(join(tmpdir(), 'pgbackup-failure-socket-'));
  if (runAs !== undefined) await runTool('chown', [`${runAs.uid}:${runAs.gid}`, sockets]);
  const options = [
    `-c listen_addresses=${world.server.host}`,
    `-c port=${world.server.port}`,
    `-c unix_socket_directories=${sockets}`,
    '-c archive_mode=off',
  ].join(' ');
  await runTool(
    pgCtl,
    [
      'start',
      '-D',
      world.dataDir,
      '-w',
      '-l',
      join(world.server.dir, 'restarted.log'),
      '-o',
      options,
    ],
    { runAs },
  );
}

/**
 * Overwrites 512 bytes in the middle of page `block` of `customers` (past its header, over
 * tuple data), as a failing disk or controller would; the page's checksum no longer matches.
 */
export async function corruptPage(
  world: World,
  relationPath: string,
  block: number,
): Promise<void> {
  const file = join(world.dataDir, relationPath);
  const bytes = await readFile(file);
  const start = block * 8192 + 4096;
  if (bytes.length < start + 512) throw new Error(`${file} has no page ${block}`);
  bytes.fill(0x5a, start, start + 512);
  await writeFile(file, bytes);
}

/**
 * The primary crashes (pg_ctl stop -m immediate: every process quits at once, no checkpoint,
 * no more WAL) and its data directory is removed.
 */
export async function destroyPrimary(world: World): Promise<void> {
  await runTool(join(PG_BIN(), 'pg_ctl'), ['stop', '-D', world.dataDir, '-m', 'immediate'], {
    runAs: postgresRunAs(),
  });
  await rm(world.dataDir, { recursive: true, force: true });
}

/** A restore from the bucket and the server recovered on it. */
export interface Recovery {
  readonly server: RestoredServer;
  readonly parent: string;
  /** The key of the backup the restore chose. */
  readonly backupKey: string;
  /** Wall time from `pgbackup restore` to the promoted server accepting queries. */
  readonly seconds: number;
  /** Bytes of WAL replayed: from the backup's start to the last record applied. */
  readonly walReplayed: bigint;
}

/**
 * `pgbackup restore -f POLICY.yaml --target-dir DIR ARGS` as the postgres user, then the
 * server started on DIR on `walTestHost(octet)` until it is promoted.
 */
export async function restoreFromBucket(
  world: World,
  args: readonly string[],
  octet: number,
): Promise<Recovery> {
  const parent = await restoreParentDir();
  const target = join(parent, 'data');
  // The operator built for the postgres user before the clock starts (and not again inside
  // it, when another change of the sources would rebuild it): no part of a restore.
  const runtime = await buildForOtherUsers();
  const started = performance.now();
  const run = await runBuilt(
    runtime,
    ['restore', '-f', world.policy.file, '--target-dir', target, ...args],
    parent,
  );
  if (run.code !== 0) throw new Error(`pgbackup restore failed:\n${run.stdout}\n${run.stderr}`);
  const restoredAt = performance.now();
  console.log(`pgbackup restore ${args.join(' ')}, its log:\n${logSteps(run.stderr)}`);
  // "  from backup   KEY, which ends at LSN (completedAt)"
  const backupKey = /from backup\s+(\S+), which ends/.exec(run.stdout)?.[1] ?? '';
  const entry = (await binaryBackups(world)).find((backup) => backup.key === backupKey);
  const startLsn = parseLsn(entry?.manifest.server.startLsn ?? '');
  if (startLsn === undefined)
    throw new Error(`no backup with a start LSN named in:\n${run.stdout}`);
  const server = await startRestoredServer(target, walTestHost(octet));
  try {
    const replayed = await waitFor(
      'the end of recovery (promoted)',
      () =>
        withClient(server.client(DATABASE), async (client) => {
          const result = await client.query<{ recovering: boolean; replayed: string | null }>(
            'SELECT pg_is_in_recovery() AS recovering, pg_last_wal_replay_lsn()::text AS replayed',
          );
          const row = result.rows[0];
          return row?.recovering === false ? (row.replayed ?? '') : undefined;
        }),
      180_000,
    );
    const seconds = (performance.now() - started) / 1000;
    console.log(
      `pgbackup restore ${args.join(' ')}: ${((restoredAt - started) / 1000).toFixed(1)} s; start and recovery to promotion: ${((performance.now() - restoredAt) / 1000).toFixed(1)} s`,
    );
    const walReplayed = (parseLsn(replayed) ?? startLsn) - startLsn;
    return { server, parent, backupKey, seconds, walReplayed };
  } catch (error) {
    await server.stop();
    await rm(parent, { recursive: true, force: true });
    throw error;
  }
}

/** Runs the built `pgbackup ARGV` as the postgres user (when root), as restore-run.ts does. */
function runBuilt(
  runtime: SharedRuntime,
  argv: readonly string[],
  home: string,
): Promise<RunOutcome> {
  const runAs = postgresRunAs();
  return new Promise((resolve) => {
    execFile(
      runtime.node,
      [runtime.bundle, ...argv],
      {
        cwd: runtime.appDir,
        env: { ...runEnvironment(), HOME: home },
        maxBuffer: 64 * 1024 * 1024,
        ...(runAs === undefined ? {} : { uid: runAs.uid, gid: runAs.gid }),
      },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : null;
        resolve({
          code,
          signal: (error?.signal as NodeJS.Signals | undefined) ?? null,
          stdout,
          stderr,
        });
      },
    );
  });
}

/** A JSON log's messages, each with the seconds since the first line. */
function logSteps(stderr: string): string {
  const lines = stderr.split('\n').flatMap((line) => {
    try {
      const parsed = JSON.parse(line) as { time?: number; msg?: string };
      return parsed.time === undefined ? [] : [{ time: parsed.time, msg: parsed.msg ?? '' }];
    } catch {
      return [];
    }
  });
  const first = lines[0]?.time ?? 0;
  return lines
    .map((line) => `  +${((line.time - first) / 1000).toFixed(1)} s ${line.msg.slice(0, 160)}`)
    .join('\n');
}

/** The policy's committed binary backups. */
export async function binaryBackups(world: World): Promise<CatalogEntry[]> {
  const { policy } = world;
  const store = createS3Store({
    bucket: policy.bucket,
    region: requireEnv('AWS_REGION'),
    endpoint: requireEnv('PGBACKUP_S3_ENDPOINT'),
    forcePathStyle: true,
    credentialsSource: 'the environment',
  });
  return store.listBackups(
    policyKeyPrefix({
      prefix: policy.prefix,
      namespace: policy.namespace,
      policy: policy.name,
      type: 'binary',
    }),
  );
}

/** Stops a recovered server and removes its directory. */
export async function dropRecovery(recovery: Recovery | undefined): Promise<void> {
  if (recovery === undefined) return;
  await recovery.server.stop();
  await rm(recovery.parent, { recursive: true, force: true });
}

/**
 * `pgbackup restore -f POLICY.yaml --type logical --database shop --into INTO` against the
 * primary (libpq's environment names it); the wall time and the key restored.
 */
export async function restoreLogical(
  world: World,
  into: string,
): Promise<{ seconds: number; backupKey: string }> {
  const workDir = await mkdtemp(join(tmpdir(), 'pgbackup-failure-logical-'));
  try {
    const env = runEnvironment({
      ...SCRATCH_RECEIVER_ENV,
      PGHOST: world.server.host,
      PGPORT: String(world.server.port),
    });
    const started = performance.now();
    const run = await startPgbackup(
      [
        'restore',
        '-f',
        world.policy.file,
        '--type',
        'logical',
        '--database',
        DATABASE,
        '--into',
        into,
        '--work-dir',
        workDir,
      ],
      env,
    ).outcome;
    const seconds = (performance.now() - started) / 1000;
    if (run.code !== 0)
      throw new Error(`the logical restore failed:\n${run.stdout}\n${run.stderr}`);
    return { seconds, backupKey: /backup: (\S+)/.exec(run.stdout)?.[1] ?? '' };
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }
}

/** A key as the table prints it: from the backup's type on (`binary/daily/1/2026…`). */
export function shortKey(key: string): string {
  return /(?:binary|logical)\/.*$/.exec(key)?.[0]?.replace(/\/$/, '') ?? key;
}
