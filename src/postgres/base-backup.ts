/**
 * `pg_basebackup` as a stream: tar format to stdout, the server's WAL fetched at the end
 * (`-X fetch`, the only WAL method that works with stdout), compressed by pg_basebackup itself
 * on the client side. The password travels in the environment, never on the command line.
 */
import { execFile } from 'node:child_process';
import type { Readable } from 'node:stream';
import { promisify } from 'node:util';
import type { Credentials, Endpoint } from './credentials.js';
import { formatEndpoint } from './credentials.js';
import { AuthenticationError, PostgresError } from './errors.js';
import {
  isAuthenticationFailure,
  startToolProcess,
  stderrTail,
  toolEnvironment,
} from './tool-process.js';

/** Compression of the stream, as `spec.binary.compression` names it. */
export type BaseBackupCompression = 'zstd' | 'gzip' | 'lz4' | 'none';

/** The algorithm with its level and zstd workers, as `spec.binary` gives them. */
export interface BinaryCompressionSettings {
  readonly algorithm: BaseBackupCompression;
  /** Undefined: the tool's default level. */
  readonly level?: number | undefined;
  /** zstd threads besides the reading one; undefined: none. */
  readonly workers?: number | undefined;
}

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
  readonly compression: BinaryCompressionSettings;
  /** The major version of `binary` (the server's): before 15 it writes gzip only. */
  readonly toolMajor: number;
  readonly checkpoint: 'spread' | 'fast';
  readonly label: string;
}

/** Where the backup starts and ends in the WAL, from pg_basebackup's verbose output. */
export interface BaseBackupResult {
  readonly startLsn: string | undefined;
  readonly stopLsn: string | undefined;
  /** The timeline of `startLsn` (`... start point: 0/2000028 on timeline 1`). */
  readonly startTimeline: number | undefined;
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

/**
 * The compression arguments: `--compress=client-zstd:level=9,workers=2` from 15 on (the
 * client compresses, so the server sends plain tar and spends no CPU on it); before 15, gzip
 * only, as `--gzip` or `--compress=N`. Other algorithms before 15 are refused earlier, by the
 * runner (compression-support).
 */
export function compressArguments(
  settings: BinaryCompressionSettings,
  toolMajor: number,
): string[] {
  if (toolMajor < 15) {
    if (settings.algorithm === 'none') return [];
    return settings.level === undefined ? ['--gzip'] : [`--compress=${settings.level}`];
  }
  if (settings.algorithm === 'none') return ['--compress=none'];
  const details = [
    ...(settings.level === undefined ? [] : [`level=${settings.level}`]),
    ...(settings.workers === undefined ? [] : [`workers=${settings.workers}`]),
  ];
  const detail = details.length === 0 ? '' : `:${details.join(',')}`;
  return [`--compress=client-${settings.algorithm}${detail}`];
}

/** The command-line arguments; no secret is among them. */
export function baseBackupArguments(input: BaseBackupInput): string[] {
  return [
    '--no-password',
    `--host=${input.endpoint.host}`,
    `--port=${input.endpoint.port}`,
    `--username=${input.credentials.username}`,
    '--pgdata=-',
    '--format=tar',
    '--wal-method=fetch',
    `--checkpoint=${input.checkpoint}`,
    ...compressArguments(input.compression, input.toolMajor),
    `--label=${input.label}`,
    '--verbose',
  ];
}

function lsnAfter(text: string, phrase: string): string | undefined {
  const match = new RegExp(`${phrase} ([0-9A-F]+/[0-9A-F]+)`).exec(text);
  return match?.[1];
}

/** The timeline pg_basebackup names with its start point; undefined when it names none. */
export function startTimelineOf(stderr: string): number | undefined {
  const match = /write-ahead log start point: [0-9A-F]+\/[0-9A-F]+ on timeline (\d+)/.exec(stderr);
  return match === null ? undefined : Number(match[1]);
}

function failureOf(input: BaseBackupInput, stderr: string, status: string): PostgresError {
  const where = formatEndpoint(input.endpoint);
  const tail = stderrTail(stderr);
  if (isAuthenticationFailure(stderr)) {
    return new AuthenticationError(
      `pg_basebackup could not log in to ${where} as "${input.credentials.username}": ${tail}. The replication credentials come from ${input.credentials.source}; correct them there`,
    );
  }
  if (/could not set compression worker count/.test(stderr)) {
    return new PostgresError(
      `pg_basebackup from ${where} could not start ${input.compression.workers} zstd workers, the number spec.binary.compressionWorkers asks for: the libzstd it uses was built without threads. Remove spec.binary.compressionWorkers, or use a runner image whose libzstd supports them:\n${tail}`,
    );
  }
  return new PostgresError(`pg_basebackup from ${where} failed (${status}):\n${tail}`);
}

/** Starts pg_basebackup; read `stdout` to the end and await `exited`. */
export function startBaseBackup(input: BaseBackupInput): BaseBackupProcess {
  const tool = startToolProcess({
    binary: input.binary,
    args: baseBackupArguments(input),
    credentials: input.credentials,
    failureOf: (stderr, status) => failureOf(input, stderr, status),
  });
  const exited = tool.exited.then((stderr) => ({
    startLsn: lsnAfter(stderr, 'write-ahead log start point:'),
    stopLsn: lsnAfter(stderr, 'write-ahead log end point:'),
    startTimeline: startTimelineOf(stderr),
  }));
  return { stdout: tool.stdout, exited, kill: tool.kill };
}

/** `pg_basebackup --version`, for the manifest. */
export async function toolVersion(binary: string): Promise<string> {
  const { stdout } = await promisify(execFile)(binary, ['--version'], {
    env: toolEnvironment(process.env, undefined),
  });
  return stdout.trim();
}
