/**
 * `pg_basebackup` as a stream: tar format to stdout, the server's WAL fetched at the end
 * (`-X fetch`, the only WAL method that works with stdout), compressed by pg_basebackup itself
 * on the client side. The password travels in the environment, never on the command line.
 */
import { execFile, spawn } from 'node:child_process';
import type { Readable } from 'node:stream';
import { promisify } from 'node:util';
import type { Credentials, Endpoint } from './credentials.js';
import { formatEndpoint } from './credentials.js';
import { AuthenticationError, PostgresError } from './errors.js';

/** Compression of the stream, as `spec.binary.compression` names it. */
export type BaseBackupCompression = 'zstd' | 'gzip' | 'lz4' | 'none';

/** The file name of the tar stream for each compression. */
export const ARCHIVE_NAMES: Readonly<Record<BaseBackupCompression, string>> = {
  zstd: 'base.tar.zst',
  gzip: 'base.tar.gz',
  lz4: 'base.tar.lz4',
  none: 'base.tar',
};

/** What {@link startBaseBackup} needs. */
export interface BaseBackupInput {
  readonly binary: string;
  readonly endpoint: Endpoint;
  readonly credentials: Credentials;
  readonly compression: BaseBackupCompression;
  readonly checkpoint: 'spread' | 'fast';
  readonly label: string;
}

/** Where the backup starts and ends in the WAL, from pg_basebackup's verbose output. */
export interface BaseBackupResult {
  readonly startLsn: string | undefined;
  readonly stopLsn: string | undefined;
}

/** A running pg_basebackup. */
export interface BaseBackupProcess {
  /** The (compressed) tar stream. */
  readonly stdout: Readable;
  /** Settles when the process exits: resolved on status 0, rejected with its stderr otherwise. */
  readonly exited: Promise<BaseBackupResult>;
  /** Stops it (on an upload failure). */
  kill(): void;
}

const STDERR_LIMIT = 16 * 1024;

/** The command-line arguments; no secret is among them. */
export function baseBackupArguments(input: BaseBackupInput): string[] {
  const compression = input.compression === 'none' ? 'none' : `client-${input.compression}`;
  return [
    '--no-password',
    `--host=${input.endpoint.host}`,
    `--port=${input.endpoint.port}`,
    `--username=${input.credentials.username}`,
    '--pgdata=-',
    '--format=tar',
    '--wal-method=fetch',
    `--checkpoint=${input.checkpoint}`,
    `--compress=${compression}`,
    `--label=${input.label}`,
    '--verbose',
  ];
}

function childEnvironment(credentials: Credentials): NodeJS.ProcessEnv {
  const { PGPASSWORD: _dropped, ...inherited } = process.env;
  return credentials.password === undefined
    ? inherited
    : { ...inherited, PGPASSWORD: credentials.password };
}

function lsnAfter(text: string, phrase: string): string | undefined {
  const match = new RegExp(`${phrase} ([0-9A-F]+/[0-9A-F]+)`).exec(text);
  return match?.[1];
}

function failureOf(input: BaseBackupInput, stderr: string, status: string): PostgresError {
  const where = formatEndpoint(input.endpoint);
  const tail = stderr.trim().split('\n').slice(-6).join('\n');
  if (/password authentication failed|no password supplied/.test(stderr)) {
    return new AuthenticationError(
      `pg_basebackup could not log in to ${where} as "${input.credentials.username}": ${tail}. The replication credentials come from ${input.credentials.source}; correct them there`,
    );
  }
  return new PostgresError(`pg_basebackup from ${where} failed (${status}):\n${tail}`);
}

/** Starts pg_basebackup; read `stdout` to the end and await `exited`. */
export function startBaseBackup(input: BaseBackupInput): BaseBackupProcess {
  const child = spawn(input.binary, baseBackupArguments(input), {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: childEnvironment(input.credentials),
  });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-STDERR_LIMIT);
  });
  const exited = new Promise<BaseBackupResult>((resolve, reject) => {
    child.on('error', (error) =>
      reject(new PostgresError(`cannot run ${input.binary}: ${error.message}`, { cause: error })),
    );
    child.on('close', (code, signal) => {
      if (code === 0) {
        resolve({
          startLsn: lsnAfter(stderr, 'write-ahead log start point:'),
          stopLsn: lsnAfter(stderr, 'write-ahead log end point:'),
        });
        return;
      }
      reject(
        failureOf(input, stderr, signal === null ? `exit status ${code}` : `signal ${signal}`),
      );
    });
  });
  return { stdout: child.stdout, exited, kill: () => child.kill('SIGTERM') };
}

/** `pg_basebackup --version`, for the manifest. */
export async function toolVersion(binary: string): Promise<string> {
  const { stdout } = await promisify(execFile)(binary, ['--version']);
  return stdout.trim();
}
