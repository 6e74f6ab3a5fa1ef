/**
 * What bench/restore restores from: the servers of bench/peers (a PostgreSQL 15 primary and a
 * MinIO over TLS of the bench's own, pgBackRest's stanza archiving the primary's WAL), a
 * pgbench database of the asked size, and the same database backed up once by each tool into
 * the one bucket:
 * - ours: `pgbackup run --type binary -f POLICY.yaml` (pg_basebackup -X fetch,
 *   client-zstd at zstd's default level 3, streamed to S3), prefix `ours/`;
 * - pgBackRest 2.45: a full backup, `compress-type=zst`, `compress-level=3`, `process-max=1`,
 *   repository `/pgbackrest`;
 * - the stock pipe: `pg_basebackup -D - -Ft -X fetch --compress=client-zstd | aws s3 cp -
 *   s3://BUCKET/restore-pipe/base.tar.zst` (Debian's AWS CLI, trusting the CA by AWS_CA_BUNDLE).
 * Secrets reach every program through its environment or a 0600 file, never its arguments.
 */
import { chmod, chown, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { repoRoot } from '../../test/harness/env/layout.js';
import { pgBinDir } from '../../test/harness/env/postgres.js';
import { type RunAs, runTool } from '../../test/harness/env/processes.js';
import { buildForOtherUsers, type SharedRuntime } from '../../test/harness/shared-build.js';
import {
  BUCKET,
  type PeerServers,
  PG_HOST,
  REGION,
  startPeerServers,
  stopPeerServers,
} from '../peers/servers.js';

export { BUCKET } from '../peers/servers.js';
/** Debian's AWS CLI (v2), which the server's account can run (root's may be another). */
export const AWS_CLI = '/usr/bin/aws';
/** The stock pipe's object. */
export const PIPE_KEY = 'restore-pipe/base.tar.zst';
/** zstd's default level, which pg_basebackup's client-zstd uses: pgBackRest is given it too. */
export const ZSTD_LEVEL = 3;
/** Long enough for an 8 GiB backup on a loaded machine. */
const BACKUP_TIMEOUT_MS = 3 * 3600_000;

/** The bench's servers, and how each tool reaches them. */
export interface RestoreBench {
  readonly servers: PeerServers;
  /** Who restores (and owns the restored directories): the server's account when we are root. */
  readonly runAs: RunAs | undefined;
  /** Our CLI as the server's account can run it. */
  readonly runtime: SharedRuntime;
  readonly policyFile: string;
  /** A HOME the restoring user owns: the targets, GNU time's output and the AWS CLI's files. */
  readonly home: string;
}

async function owned(path: string, runAs: RunAs | undefined): Promise<void> {
  if (runAs !== undefined) await chown(path, runAs.uid, runAs.gid);
}

/** The environment every tool of the bench gets: S3's keys, the CA, the restoring user's HOME. */
export function s3Environment(bench: RestoreBench): NodeJS.ProcessEnv {
  const { servers } = bench;
  return {
    PATH: process.env.PATH,
    HOME: bench.home,
    AWS_ACCESS_KEY_ID: servers.credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: servers.credentials.secretAccessKey,
    AWS_REGION: REGION,
    AWS_DEFAULT_REGION: REGION,
    AWS_CA_BUNDLE: servers.caFile,
    NODE_EXTRA_CA_CERTS: servers.caFile,
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  };
}

/** The environment of a program that logs in to the bench's server. */
function postgresEnvironment(bench: RestoreBench): NodeJS.ProcessEnv {
  return {
    ...s3Environment(bench),
    PGUSER: process.env.PGUSER,
    PGPASSWORD: process.env.PGPASSWORD,
    PGBACKUP_REPLICATION_USER: process.env.PGUSER,
    PGBACKUP_REPLICATION_PASSWORD: process.env.PGPASSWORD,
  };
}

async function writePolicy(file: string, port: number, endpoint: string): Promise<void> {
  const fixture = join(repoRoot, 'bench', 'fixtures', 'binary-policy.yaml');
  const policy = parse(await readFile(fixture, 'utf8'));
  policy.spec.target.hosts = [`${PG_HOST}:${port}`];
  Object.assign(policy.spec.storage.s3, {
    bucket: BUCKET,
    prefix: 'ours',
    endpoint,
    region: REGION,
  });
  // No secret in it: the restoring user reads it.
  await writeFile(file, stringify(policy), { mode: 0o644 });
}

/** Starts the servers in `dir` and writes our policy. */
export async function startRestoreBench(dir: string): Promise<RestoreBench> {
  const runtime = await buildForOtherUsers();
  const servers = await startPeerServers(dir);
  try {
    const { runAs } = servers;
    const home = join(dir, 'home');
    await mkdir(home, { recursive: true, mode: 0o700 });
    await owned(home, runAs);
    const policyFile = join(dir, 'policy.yaml');
    await writePolicy(policyFile, servers.server.port, servers.minio.endpoint);
    return { servers, runAs, runtime, policyFile, home };
  } catch (error) {
    await stopPeerServers(servers);
    throw error;
  }
}

/** Stops and removes the servers. */
export function stopRestoreBench(bench: RestoreBench): Promise<void> {
  return stopPeerServers(bench.servers);
}

/** pgBackRest's arguments for a command of the bench's stanza. */
export function pgbackrestArgs(bench: RestoreBench, command: readonly string[]): string[] {
  const { pgbackrest } = bench.servers;
  return [`--config=${pgbackrest.configFile}`, `--stanza=${pgbackrest.stanza}`, ...command];
}
/** Takes the three backups of the current database (each tool's earlier ones stay). */
export async function takeBackups(bench: RestoreBench, at: string): Promise<void> {
  const env = postgresEnvironment(bench) as Record<string, string>;
  const timeoutMs = BACKUP_TIMEOUT_MS;
  process.stderr.write('backup: ours…\n');
  await runTool(
    bench.runtime.node,
    [
      bench.runtime.bundle,
      'run',
      '--type',
      'binary',
      '--line',
      'daily',
      '-f',
      bench.policyFile,
      '--at',
      at,
    ],
    { env, timeoutMs, cwd: bench.runtime.appDir },
  );
  process.stderr.write('backup: pgBackRest…\n');
  await runTool(
    'pgbackrest',
    pgbackrestArgs(bench, [
      '--type=full',
      '--process-max=1',
      '--compress-type=zst',
      `--compress-level=${ZSTD_LEVEL}`,
      '--start-fast',
      'backup',
    ]),
    { runAs: bench.runAs, timeoutMs },
  );
  process.stderr.write('backup: the stock pipe…\n');
  const { host, port } = bench.servers.server;
  await runTool(
    'bash',
    [
      '-o',
      'pipefail',
      '-c',
      `"$PG_BIN/pg_basebackup" -h "$PG_HOST" -p "$PG_PORT" -D - -Ft -X fetch --checkpoint=fast --compress=client-zstd | ${AWS_CLI} --endpoint-url "$S3_ENDPOINT" s3 cp - "s3://${BUCKET}/${PIPE_KEY}"`,
    ],
    {
      env: {
        ...env,
        PG_BIN: pgBinDir(),
        PG_HOST: host,
        PG_PORT: String(port),
        S3_ENDPOINT: bench.servers.minio.endpoint,
      },
      runAs: bench.runAs,
      timeoutMs,
    },
  );
}

/** Makes an empty directory the restoring user owns, mode 0700, for one restore. */
export async function makeTarget(path: string, runAs: RunAs | undefined): Promise<void> {
  await mkdir(path, { mode: 0o700 });
  await chmod(path, 0o700);
  await owned(path, runAs);
}
