/**
 * `pg_dump -Fc` of one database and `pg_dumpall --globals-only` as streams on stdout. The
 * connection goes in a conninfo string (so a database name with `=` or non-ASCII letters is
 * only ever a name) with an application name that marks the run's sessions on the server;
 * the password travels in the environment, never on the command line.
 */
import { spawn } from 'node:child_process';
import type { Readable } from 'node:stream';
import { type Credentials, type Endpoint, formatEndpoint } from './credentials.js';
import { AuthenticationError, PostgresError, RecoveryConflictError } from './errors.js';

/** Where and as whom a dump connects. */
export interface DumpConnection {
  readonly binary: string;
  readonly endpoint: Endpoint;
  readonly credentials: Credentials;
  /** `application_name` of the dump's sessions, e.g. `pgbackup-logical-1a2b3c4d`. */
  readonly applicationName: string;
}

/** What {@link startDatabaseDump} needs. */
export interface DatabaseDumpInput extends DumpConnection {
  readonly database: string;
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

const STDERR_LIMIT = 16 * 1024;

/** A conninfo value in single quotes, with `\` and `'` escaped as libpq wants. */
function quoteConninfo(value: string): string {
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

/** pg_dump's arguments: the custom format (compressed, restorable table by table). */
export function databaseDumpArguments(input: DatabaseDumpInput): string[] {
  return ['--no-password', '--format=custom', `--dbname=${dumpConninfo(input, input.database)}`];
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

function childEnvironment(credentials: Credentials): NodeJS.ProcessEnv {
  const { PGPASSWORD: _dropped, ...inherited } = process.env;
  return credentials.password === undefined
    ? inherited
    : { ...inherited, PGPASSWORD: credentials.password };
}

function failureOf(input: DumpConnection, what: string, stderr: string, status: string) {
  const where = formatEndpoint(input.endpoint);
  const tool = input.binary.split('/').pop() ?? input.binary;
  const tail = stderr.trim().split('\n').slice(-6).join('\n');
  if (/password authentication failed|no password supplied/.test(stderr)) {
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
  const child = spawn(input.binary, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: childEnvironment(input.credentials),
  });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-STDERR_LIMIT);
  });
  const exited = new Promise<Record<string, never>>((resolve, reject) => {
    child.on('error', (error) =>
      reject(new PostgresError(`cannot run ${input.binary}: ${error.message}`, { cause: error })),
    );
    child.on('close', (code, signal) => {
      if (code === 0) {
        resolve({});
        return;
      }
      const status = signal === null ? `exit status ${code}` : `signal ${signal}`;
      reject(failureOf(input, what, stderr, status));
    });
  });
  return { stdout: child.stdout, exited, kill: () => child.kill('SIGTERM') };
}

/** Starts `pg_dump -Fc` of one database; read `stdout` to the end and await `exited`. */
export function startDatabaseDump(input: DatabaseDumpInput): DumpProcess {
  return startDump(input, `database "${input.database}"`, databaseDumpArguments(input));
}

/** Starts `pg_dumpall --globals-only`; read `stdout` to the end and await `exited`. */
export function startGlobalsDump(input: GlobalsDumpInput): DumpProcess {
  return startDump(input, 'the globals (roles, tablespaces)', globalsDumpArguments(input));
}
