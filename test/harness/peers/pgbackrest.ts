/**
 * pgBackRest (Debian's `pgbackrest`) archiving a server's WAL to an S3 repository over TLS
 * (see ./tls-minio.ts), as Crunchy PGO runs it: asynchronous archive-push with a spool and
 * parallel workers. `configurePgbackrest` writes its configuration (the repository's keys are
 * in that file, readable by the server's account only, never on a command line) and runs
 * `stanza-create`; the server's `archive_command` is then {@link PgbackrestRepo.archiveCommand}.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { chown, copyFile, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { type RunAs, runTool } from '../env/processes.js';
import type { TlsBucket } from './tls-minio.js';

/** The server whose WAL pgBackRest archives; pgBackRest runs on its host, as its account. */
export interface PgbackrestServer {
  readonly dataDir: string;
  readonly port: number;
  /** The server's unix socket directory: pgBackRest connects through it. */
  readonly socketDir: string;
  /** A superuser that may connect through the socket without a password. */
  readonly user: string;
  /** The server's account (root cannot run pgBackRest against a server it does not own). */
  readonly runAs: RunAs | undefined;
}

/** The S3 repository: a bucket over TLS. */
export interface PgbackrestS3 extends TlsBucket {
  /** The PEM file of the CA that signed the server's certificate. */
  readonly caFile: string;
}

/** How pgBackRest is set up. */
export interface PgbackrestOptions {
  /** A directory of its own: configuration, spool, logs, locks. */
  readonly dir: string;
  readonly stanza: string;
  readonly server: PgbackrestServer;
  readonly s3: PgbackrestS3;
  /** The repository's path in the bucket, e.g. `/pgbackrest`. */
  readonly repoPath: string;
  /** `compress-type`: zst, gz, lz4, bz2 or none. */
  readonly compressType: string;
  /** `process-max`: parallel workers of the asynchronous archive-push. */
  readonly processMax: number;
  /** `io-timeout` in seconds (pgBackRest retries a failing repository that long; default 60). */
  readonly ioTimeoutSeconds?: number;
}

/** A configured stanza. */
export interface PgbackrestRepo {
  readonly configFile: string;
  readonly stanza: string;
  /** The server's `archive_command` that pushes through this stanza. */
  readonly archiveCommand: string;
  /** The key prefix of the stanza's WAL archive in the bucket (ends with `/`). */
  readonly archivePrefix: string;
}

function configText(options: PgbackrestOptions, caFile: string): string {
  const { dir, s3, server } = options;
  return [
    '[global]',
    'repo1-type=s3',
    `repo1-path=${options.repoPath}`,
    `repo1-s3-bucket=${s3.bucket}`,
    `repo1-s3-endpoint=${s3.host}`,
    `repo1-storage-port=${s3.port}`,
    `repo1-s3-region=${s3.region}`,
    `repo1-s3-key=${s3.accessKeyId}`,
    `repo1-s3-key-secret=${s3.secretAccessKey}`,
    'repo1-s3-uri-style=path',
    `repo1-storage-ca-file=${caFile}`,
    `compress-type=${options.compressType}`,
    'archive-async=y',
    `spool-path=${join(dir, 'spool')}`,
    `process-max=${options.processMax}`,
    ...(options.ioTimeoutSeconds === undefined ? [] : [`io-timeout=${options.ioTimeoutSeconds}`]),
    `log-path=${join(dir, 'log')}`,
    `lock-path=${join(dir, 'lock')}`,
    'log-level-console=warn',
    'log-level-stderr=warn',
    'log-level-file=info',
    '',
    `[${options.stanza}]`,
    `pg1-path=${server.dataDir}`,
    `pg1-port=${server.port}`,
    `pg1-socket-path=${server.socketDir}`,
    `pg1-user=${server.user}`,
    '',
  ].join('\n');
}

/** Runs a pgBackRest command of the stanza as the server's account; its stdout. */
export function runPgbackrest(
  repo: Pick<PgbackrestRepo, 'configFile' | 'stanza'>,
  runAs: RunAs | undefined,
  command: readonly string[],
): Promise<string> {
  return runTool(
    'pgbackrest',
    [`--config=${repo.configFile}`, `--stanza=${repo.stanza}`, ...command],
    {
      runAs,
      timeoutMs: 120_000,
    },
  );
}

/**
 * Writes the configuration (the server's account owns it and everything under `dir`) and
 * creates the stanza; the server must be running.
 */
export async function configurePgbackrest(options: PgbackrestOptions): Promise<PgbackrestRepo> {
  const { dir, server } = options;
  const owned = async (path: string) => {
    if (server.runAs !== undefined) await chown(path, server.runAs.uid, server.runAs.gid);
  };
  for (const path of [dir, join(dir, 'spool'), join(dir, 'log'), join(dir, 'lock')]) {
    await mkdir(path, { recursive: true, mode: 0o700 });
    await owned(path);
  }
  // The CA's own copy, so the server's account can read it wherever the CA lives.
  const caFile = join(dir, 'ca.crt');
  await copyFile(options.s3.caFile, caFile);
  await owned(caFile);
  const configFile = join(dir, 'pgbackrest.conf');
  await writeFile(configFile, configText(options, caFile), { mode: 0o600 });
  await owned(configFile);
  const repo: PgbackrestRepo = {
    configFile,
    stanza: options.stanza,
    archiveCommand: `pgbackrest --config=${configFile} --stanza=${options.stanza} archive-push %p`,
    archivePrefix: `${options.repoPath.replace(/^\//, '')}/archive/${options.stanza}/`,
  };
  await runPgbackrest(repo, server.runAs, ['stanza-create']);
  return repo;
}

/** The 24-hex names of the WAL segments the stanza's archive holds (pgBackRest adds `-<sha1>.<ext>`). */
export async function listArchivedSegments(
  client: S3Client,
  bucket: string,
  repo: Pick<PgbackrestRepo, 'archivePrefix'>,
): Promise<string[]> {
  const names: string[] = [];
  let token: string | undefined;
  do {
    const page = await client.send(
      new ListObjectsV2Command({
        Bucket: bucket,
        Prefix: repo.archivePrefix,
        ...(token === undefined ? {} : { ContinuationToken: token }),
      }),
    );
    for (const object of page.Contents ?? []) {
      const name = /\/([0-9A-F]{24})-[0-9a-f]{40}(\.\w+)?$/.exec(object.Key ?? '')?.[1];
      if (name !== undefined) names.push(name);
    }
    token = page.IsTruncated === true ? page.NextContinuationToken : undefined;
  } while (token !== undefined);
  return names.sort();
}

/** A pgBackRest process of a stanza, and its role (`archive-push`, `archive-push:async`, …). */
export interface PgbackrestProcess {
  readonly pid: number;
  readonly role: string;
}

/** The running pgBackRest processes that use `configFile`, found through /proc. */
export function pgbackrestProcesses(configFile: string): PgbackrestProcess[] {
  const found: PgbackrestProcess[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const args = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').filter(Boolean);
      if (!(args[0] ?? '').endsWith('pgbackrest')) continue;
      if (!args.includes(`--config=${configFile}`)) continue;
      found.push({ pid: Number(entry), role: args.at(-1) ?? '' });
    } catch {
      // Gone between the listing and the read.
    }
  }
  return found;
}
