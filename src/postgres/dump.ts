/**
 * `pg_dump -Fc` of one database and `pg_dumpall --globals-only` as streams on stdout. The
 * connection goes in a conninfo string (so a database name with `=` or non-ASCII letters is
 * only ever a name) with an application name that marks the run's sessions on the server;
 * the password travels in the environment, never on the command line.
 */
import type { Readable } from 'node:stream';
import { type Credentials, type Endpoint, formatEndpoint } from './credentials.js';
import { AuthenticationError, PostgresError, RecoveryConflictError } from './errors.js';
import { isAuthenticationFailure, startToolProcess, stderrTail } from './tool-process.js';

/** Where and as whom a dump connects. */
export interface DumpConnection {
  readonly binary: string;
  readonly endpoint: Endpoint;
  readonly credentials: Credentials;
  /** `application_name` of the dump's sessions, e.g. `pgbackup-logical-1a2b3c4d`. */
  readonly applicationName: string;
}

/** Compression inside the custom format, as `spec.logical` gives it. */
export interface DumpCompressionSettings {
  readonly algorithm: 'gzip' | 'zstd' | 'lz4' | 'none';
  /** Undefined: pg_dump's default level. */
  readonly level?: number | undefined;
}

/** What {@link startDatabaseDump} needs. */
export interface DatabaseDumpInput extends DumpConnection {
  readonly database: string;
  readonly compression: DumpCompressionSettings;
  /** The major version of `binary`: before 16, pg_dump compresses with gzip only. */
  readonly toolMajor: number;
}

/** What {@link startGlobalsDump} needs. */
export interface GlobalsDumpInput extends DumpConnection {
  /** The role cannot read pg_authid: dump the roles without their passwords. */
  readonly withoutRolePasswords: boolean;
}

/** A running dump. */
export interface DumpProcess {
  readonly stdout: Readable;
  /** Settles when the tool exits: resolved on status 0, rejected with its failure otherwise. */
  readonly exited: Promise<Record<string, never>>;
  kill(): void;
}

/** A conninfo value in single quotes, with `\` and `'` escaped as libpq wants. */
export function quoteConninfo(value: string): string {
  return `'${value.replace(/[\\']/g, (character) => `\\${character}`)}'`;
}

/** The conninfo string of a dump; no secret is in it. */
export function dumpConninfo(connection: DumpConnection, database?: string): string {
  const fields: [string, string][] = [
    ['host', connection.endpoint.host],
    ['port', String(connection.endpoint.port)],
    ['user', connection.credentials.username],
    ['application_name', connection.applicationName],
    ...(database === undefined ? [] : ([['dbname', database]] as [string, string][])),
  ];
  return fields.map(([key, value]) => `${key}=${quoteConninfo(value)}`).join(' ');
}

/**
 * The compression argument: `--compress=zstd:level=N` from 16 on; before 16 a gzip level
 * (`--compress=N`, 0 for none), and nothing for gzip at pg_dump's default. zstd and lz4 before
 * 16 are refused earlier, by the runner (compression-support).
 */
export function dumpCompressArguments(settings: DumpCompressionSettings, toolMajor: number) {
  if (toolMajor < 16) {
    if (settings.algorithm === 'none') return ['--compress=0'];
    return settings.level === undefined ? [] : [`--compress=${settings.level}`];
  }
  const level = settings.level === undefined ? '' : `:level=${settings.level}`;
  return [`--compress=${settings.algorithm}${level}`];
}

/** pg_dump's arguments: the custom format (compressed, restorable table by table). */
export function databaseDumpArguments(input: DatabaseDumpInput): string[] {
  return [
    '--no-password',
    '--format=custom',
    ...dumpCompressArguments(input.compression, input.toolMajor),
    `--dbname=${dumpConninfo(input, input.database)}`,
  ];
}

/** pg_dumpall's arguments: roles and tablespaces only. */
export function globalsDumpArguments(input: GlobalsDumpInput): string[] {
  return [
    '--no-password',
    '--globals-only',
    ...(input.withoutRolePasswords ? ['--no-role-passwords'] : []),
    `--dbname=${dumpConninfo(input)}`,
  ];
}

function failureOf(input: DumpConnection, what: string, stderr: string, status: string) {
  const where = formatEndpoint(input.endpoint);
  const tool = input.binary.split('/').pop() ?? input.binary;
  const tail = stderrTail(stderr);
  if (isAuthenticationFailure(stderr)) {
    return new AuthenticationError(
      `${tool} could not log in to ${where} as "${input.credentials.username}": ${tail}. The credentials come from ${input.credentials.source}; correct them there`,
    );
  }
  if (/conflict with recovery/.test(stderr)) {
    return new RecoveryConflictError(
      `${tool} of ${what} on ${where} was cancelled by a recovery conflict: the replica needed to replay WAL that removes rows or takes locks the dump still held:\n${tail}`,
    );
  }
  return new PostgresError(`${tool} of ${what} on ${where} failed (${status}):\n${tail}`);
}

function startDump(input: DumpConnection, what: string, args: string[]): DumpProcess {
  const tool = startToolProcess({
    binary: input.binary,
    args,
    credentials: input.credentials,
    failureOf: (stderr, status) => failureOf(input, what, stderr, status),
  });
  const exited = tool.exited.then((): Record<string, never> => ({}));
  return { stdout: tool.stdout, exited, kill: tool.kill };
}

/** Starts `pg_dump -Fc` of one database; read `stdout` to the end and await `exited`. */
export function startDatabaseDump(input: DatabaseDumpInput): DumpProcess {
  return startDump(input, `database "${input.database}"`, databaseDumpArguments(input));
}

/** Starts `pg_dumpall --globals-only`; read `stdout` to the end and await `exited`. */
export function startGlobalsDump(input: GlobalsDumpInput): DumpProcess {
  return startDump(input, 'the globals (roles, tablespaces)', globalsDumpArguments(input));
}
