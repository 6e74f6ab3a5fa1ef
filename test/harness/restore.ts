/**
 * Restoring a binary backup with stock tools only, as a person would: download, decompress,
 * untar, `pg_verifybackup`, start `postgres` on it (on a loopback address of its own), and
 * fingerprint every table to compare with the source.
 */
import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { chown, mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import pg from 'pg';
import { postgresRunAs } from './env/postgres.js';
import { type RunAs, runTool } from './env/processes.js';
import { requireEnv } from './variables.js';

/** Downloads an object to a file. */
export async function downloadObject(
  client: S3Client,
  location: { bucket: string; key: string },
  path: string,
): Promise<void> {
  const object = await client.send(
    new GetObjectCommand({ Bucket: location.bucket, Key: location.key }),
  );
  await pipeline(object.Body as Readable, createWriteStream(path));
}

const DECOMPRESSORS: Readonly<Record<string, string>> = {
  'base.tar.zst': 'zstd -dc',
  'base.tar.gz': 'gzip -dc',
  'base.tar.lz4': 'lz4 -dc',
  'base.tar': 'cat',
};

/** Decompresses and untars an archive into a new directory, then runs pg_verifybackup on it. */
export async function unpackAndVerify(archive: string, name: string): Promise<string> {
  const decompress = DECOMPRESSORS[name];
  if (decompress === undefined) throw new Error(`unknown archive ${name}`);
  const dataDir = await mkdtemp(join(tmpdir(), 'pgbackup-restore-'));
  await runTool('sh', ['-c', `${decompress} "$1" | tar -xf - -C "$2"`, 'sh', archive, dataDir]);
  await runTool(join(requireEnv('PGBACKUP_PG_BIN'), 'pg_verifybackup'), [dataDir]);
  return dataDir;
}

/** A server started on a restored data directory. */
export interface RestoredServer {
  readonly host: string;
  readonly port: number;
  client(database: string): pg.Client;
  stop(): Promise<void>;
}

async function chownTree(path: string, runAs: RunAs): Promise<void> {
  await chown(path, runAs.uid, runAs.gid);
  for (const entry of await readdir(path, { withFileTypes: true })) {
    const child = join(path, entry.name);
    if (entry.isDirectory()) await chownTree(child, runAs);
    else await chown(child, runAs.uid, runAs.gid);
  }
}

async function waitAccepting(server: RestoredServer, log: () => string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const client = server.client('postgres');
    try {
      await client.connect();
      await client.end();
      return;
    } catch {
      await client.end().catch(() => undefined);
      await sleep(250);
    }
  }
  throw new Error(`the restored server did not start:\n${log()}`);
}

/**
 * Starts `postgres` on a restored data directory, listening on `host` and a random port; its
 * own settings (the source's address and port) are overridden on the command line, and then
 * by `extraSettings` (`name=value`; the last of a name wins).
 */
export async function startRestoredServer(
  dataDir: string,
  host: string,
  extraSettings: readonly string[] = [],
): Promise<RestoredServer> {
  const runAs = postgresRunAs();
  const socketDir = await mkdtemp(join(tmpdir(), 'pgbackup-restore-socket-'));
  await mkdir(socketDir, { recursive: true });
  if (runAs !== undefined) {
    await chownTree(dataDir, runAs);
    await chown(socketDir, runAs.uid, runAs.gid);
  }
  const port = 20_000 + Math.floor(Math.random() * 20_000);
  const settings = [
    `listen_addresses=${host}`,
    `port=${port}`,
    `unix_socket_directories=${socketDir}`,
    'archive_mode=off',
    ...extraSettings,
  ];
  const child = spawn(
    join(requireEnv('PGBACKUP_PG_BIN'), 'postgres'),
    ['-D', dataDir, ...settings.flatMap((setting) => ['-c', setting])],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(runAs === undefined ? {} : { uid: runAs.uid, gid: runAs.gid }),
    },
  );
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  const exited = new Promise<void>((resolve) => child.on('close', () => resolve()));
  const server: RestoredServer = {
    host,
    port,
    client: (database) =>
      new pg.Client({
        host,
        port,
        database,
        user: requireEnv('PGUSER'),
        password: requireEnv('PGPASSWORD'),
      }),
    stop: async () => {
      child.kill('SIGINT');
      await exited;
      await rm(socketDir, { recursive: true, force: true });
    },
  };
  await waitAccepting(server, () => output);
  return server;
}

/** Row count and md5 of the ordered contents of a table. */
export interface TableFingerprint {
  readonly rows: number;
  readonly md5: string;
}

/** Fingerprints every user table of a database, by qualified name. */
export async function fingerprintTables(
  client: pg.Client,
): Promise<Record<string, TableFingerprint>> {
  const tables = await client.query<{ name: string }>(
    "SELECT format('%I.%I', schemaname, tablename) AS name FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema') ORDER BY 1",
  );
  const fingerprints: Record<string, TableFingerprint> = {};
  for (const { name } of tables.rows) {
    const result = await client.query<{ rows: string; md5: string }>(
      `SELECT count(*)::text AS rows, coalesce(md5(string_agg(t::text, E'\\n' ORDER BY t::text)), '') AS md5 FROM ${name} t`,
    );
    const row = result.rows[0];
    fingerprints[name] = { rows: Number(row?.rows ?? 0), md5: row?.md5 ?? '' };
  }
  return fingerprints;
}
