/**
 * The servers bench/binary and bench/logical compare the peers on, started by the bench itself
 * on addresses .22 and .23 of the environment's subnet (PGBACKUP_ENV_SUBNET, default 127.0.0)
 * and removed at the end: a PostgreSQL primary of its own (archive_mode on, which pgBackRest's
 * backup needs and the shared primary does not allow; archive_command is pgBackRest's
 * asynchronous archive-push, so every tool's backup pays the same archiving) and a MinIO over
 * TLS with a CA it makes (pgBackRest's S3 repository must be TLS; the others trust the CA
 * through NODE_EXTRA_CA_CERTS or AWS_CA_BUNDLE). Every tool writes to the one bucket.
 */
import { randomBytes } from 'node:crypto';
import { chmod, chown, copyFile, mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DeleteObjectsCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import type pg from 'pg';
import { parse } from 'yaml';
import { addresses, repoRoot } from '../../test/harness/env/layout.js';
import { pgBinDir, postgresRunAs } from '../../test/harness/env/postgres.js';
import { type RunAs, runTool } from '../../test/harness/env/processes.js';
import { ensureToolModule } from '../../test/harness/env/tools.js';
import {
  configurePgbackrest,
  type PgbackrestRepo,
  runPgbackrest,
} from '../../test/harness/peers/pgbackrest.js';
import { startTlsMinio, type TlsMinio } from '../../test/harness/peers/tls-minio.js';
import { type ScratchServer, startScratchPrimary } from '../../test/harness/scratch-postgres.js';
import { type CpuCgroup, createCpuCgroup } from '../cpu-cgroup.js';
import { type Accounting, postmasterPidOf } from './measure.js';

export const BUCKET = 'pgbackup-bench-peers';
export const REGION = 'us-east-1';
const subnet = addresses.primary.host.replace(/\.\d+$/, '');
export const PG_HOST = `${subnet}.22`;
export const MINIO_HOST = `${subnet}.23`;
export const MINIO_PORT = 9000;

/** The bench's servers and where things are. */
export interface PeerServers {
  readonly dir: string;
  readonly server: ScratchServer;
  readonly dataDir: string;
  readonly socketDir: string;
  readonly minio: TlsMinio;
  /** The CA's file, readable by the server's account (barman, pgBackRest run as it). */
  readonly caFile: string;
  readonly s3: S3Client;
  readonly admin: pg.Client;
  readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string };
  readonly pgbackrest: PgbackrestRepo;
  readonly runAs: RunAs | undefined;
  readonly cgroup: CpuCgroup | undefined;
  readonly accounting: Accounting;
}

function token(bytes: number): string {
  return randomBytes(bytes).toString('base64url');
}

/** What every bench that starts its own servers begins with (bench/peers, bench/wal). */
export interface BenchBase {
  readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string };
  /** The server's account when we are root (it owns the data directory and the socket's). */
  readonly runAs: RunAs | undefined;
  readonly socketDir: string;
  readonly minio: TlsMinio;
}

/**
 * The server's login (a new password, in this process's environment for the tools), new S3
 * keys, the socket directory the server's account owns, and a MinIO over TLS in `dir` with
 * `bucket` on `minioHost`.
 */
export async function startBenchBase(
  dir: string,
  minioHost: string,
  bucket: string,
): Promise<BenchBase> {
  Object.assign(process.env, {
    PGBACKUP_PG_BIN: pgBinDir(),
    PGUSER: 'postgres',
    PGPASSWORD: token(18),
  });
  const credentials = { accessKeyId: `bench${token(6)}`, secretAccessKey: token(30) };
  const runAs = postgresRunAs();
  const socketDir = join(dir, 'pg-socket');
  await mkdir(socketDir, { recursive: true });
  if (runAs !== undefined) await chown(socketDir, runAs.uid, runAs.gid);
  const minioDir = join(dir, 'minio');
  await mkdir(minioDir, { recursive: true });
  const binary = join(
    await ensureToolModule('minio', (m) => process.stderr.write(`${m}\n`)),
    'minio',
  );
  const minio = await startTlsMinio({
    dir: minioDir,
    binary,
    host: minioHost,
    port: MINIO_PORT,
    bucket,
    region: REGION,
    ...credentials,
  });
  return { credentials, runAs, socketDir, minio };
}

/** Starts the servers in `dir` (made 0755 so the server's account reaches what it needs). */
export async function startPeerServers(dir: string): Promise<PeerServers> {
  await chmod(dir, 0o755);
  const { credentials, runAs, socketDir, minio } = await startBenchBase(dir, MINIO_HOST, BUCKET);
  try {
    const caFile = join(dir, 'ca.crt');
    await copyFile(minio.caFile, caFile);
    await chmod(caFile, 0o644);
    const server = await startScratchPrimary(PG_HOST, [
      'archive_mode=on',
      `unix_socket_directories=${socketDir}`,
      // -X fetch (the stock pipe, ours) needs the backup's WAL kept until its end.
      'wal_keep_size=2GB',
      'max_wal_size=4GB',
    ]);
    const admin = server.client('postgres');
    await admin.connect();
    const dataDir = join(server.dir, 'data');
    const pgbackrest = await configurePgbackrest({
      dir: join(dir, 'pgbackrest'),
      stanza: 'bench',
      server: { dataDir, port: server.port, socketDir, user: 'postgres', runAs },
      s3: {
        host: MINIO_HOST,
        port: MINIO_PORT,
        bucket: BUCKET,
        region: REGION,
        caFile,
        ...credentials,
      },
      repoPath: '/pgbackrest',
      compressType: 'zst',
      processMax: 1,
    });
    await admin.query(
      `ALTER SYSTEM SET archive_command = ${admin.escapeLiteral(pgbackrest.archiveCommand)}`,
    );
    await admin.query('SELECT pg_reload_conf()');
    const cgroup = createCpuCgroup(`pgbackup-bench-peers-${process.pid}`);
    const cgroupProcs =
      cgroup === undefined
        ? undefined
        : join('/sys/fs/cgroup/cpuacct', `pgbackup-bench-peers-${process.pid}`, 'cgroup.procs');
    return {
      dir,
      server,
      dataDir,
      socketDir,
      minio,
      caFile,
      s3: minio.client(),
      admin,
      credentials,
      pgbackrest,
      runAs,
      cgroup,
      accounting: {
        cgroup,
        cgroupProcs,
        postmasterPid: postmasterPidOf(dataDir),
        minioPid: minio.pid,
      },
    };
  } catch (error) {
    await minio.stop();
    throw error;
  }
}

export async function stopPeerServers(servers: PeerServers): Promise<void> {
  await servers.admin.end().catch(() => undefined);
  servers.s3.destroy();
  await servers.server.stop();
  await servers.minio.stop();
  try {
    servers.cgroup?.remove();
  } catch (error) {
    process.stderr.write(`could not remove the bench's cgroup: ${String(error)}\n`);
  }
}

/** Every object under a prefix: key and size. */
export async function listObjects(
  servers: PeerServers,
  prefix: string,
): Promise<{ key: string; size: number }[]> {
  const objects: { key: string; size: number }[] = [];
  let token: string | undefined;
  do {
    const page = await servers.s3.send(
      new ListObjectsV2Command({
        Bucket: BUCKET,
        Prefix: prefix,
        ...(token === undefined ? {} : { ContinuationToken: token }),
      }),
    );
    for (const object of page.Contents ?? [])
      objects.push({ key: object.Key ?? '', size: object.Size ?? 0 });
    token = page.IsTruncated === true ? page.NextContinuationToken : undefined;
  } while (token !== undefined);
  return objects;
}

/** Deletes everything under a prefix. */
export async function deletePrefix(servers: PeerServers, prefix: string): Promise<void> {
  const keys = (await listObjects(servers, prefix)).map((object) => object.key);
  for (let start = 0; start < keys.length; start += 1000) {
    await servers.s3.send(
      new DeleteObjectsCommand({
        Bucket: BUCKET,
        Delete: { Objects: keys.slice(start, start + 1000).map((Key) => ({ Key })) },
      }),
    );
  }
}

/** Drops pgBackRest's older backups (unmeasured, after a measured one): keeps the newest full. */
export async function expirePgbackrest(servers: PeerServers): Promise<void> {
  await runPgbackrest(servers.pgbackrest, servers.runAs, ['expire', '--repo1-retention-full=1']);
}

/** Creates database `bench` and loads `pgbench -i -s SCALE` into it; returns the cluster's bytes. */
export async function loadPgbench(servers: PeerServers, scale: number): Promise<number> {
  await servers.admin.query('DROP DATABASE IF EXISTS bench');
  await servers.admin.query('CREATE DATABASE bench');
  process.stderr.write(`pgbench -i -s ${scale}…\n`);
  await runTool(
    join(pgBinDir(), 'pgbench'),
    ['-i', '-q', '-s', String(scale), '-h', PG_HOST, '-p', String(servers.server.port), 'bench'],
    {
      env: { PGUSER: process.env.PGUSER ?? '', PGPASSWORD: process.env.PGPASSWORD ?? '' },
      timeoutMs: 60 * 60_000,
    },
  );
  await servers.admin.query('CHECKPOINT');
  const { rows } = await servers.admin.query<{ size: string }>(
    'SELECT sum(pg_database_size(oid))::text AS size FROM pg_database',
  );
  return Number(rows[0]?.size ?? 0);
}

/** Bytes of database `bench` alone (the logical bench dumps it). */
export async function benchDatabaseBytes(servers: PeerServers): Promise<number> {
  const { rows } = await servers.admin.query<{ size: string }>(
    "SELECT pg_database_size('bench')::text AS size",
  );
  return Number(rows[0]?.size ?? 0);
}

export async function dropPgbench(servers: PeerServers): Promise<void> {
  await servers.admin.query('DROP DATABASE IF EXISTS bench');
}

/** Where a bench's policy points: its server and its bucket. */
export interface PolicyTarget {
  /** `host:port` of the server. */
  readonly host: string;
  readonly bucket: string;
  readonly prefix: string;
  readonly endpoint: string;
}

/**
 * A policy under bench/fixtures/, parsed and aimed at the bench's server and bucket (the
 * fixture's hosts, bucket, prefix and endpoint are placeholders).
 */
export async function benchPolicy(fixture: string, target: PolicyTarget) {
  const policy = parse(await readFile(join(repoRoot, 'bench', 'fixtures', fixture), 'utf8'));
  policy.spec.target.hosts = [target.host];
  Object.assign(policy.spec.storage.s3, {
    bucket: target.bucket,
    prefix: target.prefix,
    endpoint: target.endpoint,
    region: REGION,
  });
  return policy;
}
