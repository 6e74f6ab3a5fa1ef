/**
 * A PostgreSQL client program (pg_basebackup, pg_dump, pg_dumpall, pg_restore) run as a
 * stream: stdout piped to the caller, the password in the child's environment (never on its
 * command line) and nothing else of the caller's secrets there ({@link toolEnvironment}),
 * and the last {@link STDERR_LIMIT} characters of stderr kept for the result or the error.
 */
import { spawn } from 'node:child_process';
import type { Readable } from 'node:stream';
import type { Credentials } from './credentials.js';
import { PostgresError } from './errors.js';

/** How much of the program's stderr is kept: enough for its last lines, bounded however long it runs. */
export const STDERR_LIMIT = 16 * 1024;

/** What {@link startToolProcess} needs. */
export interface ToolProcessInput {
  readonly binary: string;
  /** The command-line arguments; no secret may be among them. */
  readonly args: readonly string[];
  readonly credentials: Credentials;
  /** The error to reject with when the program ends other than with status 0. */
  readonly failureOf: (stderr: string, status: string) => Error;
}

/** A running client program. */
export interface ToolProcess {
  readonly stdout: Readable;
  /** Resolved with the kept stderr on status 0, rejected with `failureOf`'s error otherwise. */
  readonly exited: Promise<string>;
  /** Stops it (on an upload failure). */
  kill(): void;
}

/**
 * Variables a PostgreSQL client program may inherit: where to find programs, files and the
 * time zone, its locale, and libpq's own settings (PGPASSWORD excepted: it comes from the
 * credentials). Everything else, the AWS keys and the Kubernetes credentials above all, stays
 * in the runner's process: a program that prints its environment, or a core dump of it, must
 * not hold the bucket's keys.
 */
const INHERITED_NAMES: ReadonlySet<string> = new Set([
  'PATH',
  'HOME',
  'TMPDIR',
  'USER',
  'LOGNAME',
  'TZ',
  'LANG',
  'LANGUAGE',
  // GSSAPI logins (libpq's krbsrvname, gsslib) find their configuration and ticket cache here.
  'KRB5_CONFIG',
  'KRB5CCNAME',
  // libpq's environment variables (the "Environment Variables" chapter of its manual).
  'PGHOST',
  'PGHOSTADDR',
  'PGPORT',
  'PGDATABASE',
  'PGUSER',
  'PGPASSFILE',
  'PGSERVICE',
  'PGSERVICEFILE',
  'PGOPTIONS',
  'PGAPPNAME',
  'PGSSLMODE',
  'PGREQUIRESSL',
  'PGSSLNEGOTIATION',
  'PGSSLCOMPRESSION',
  'PGSSLCERT',
  'PGSSLKEY',
  'PGSSLCERTMODE',
  'PGSSLROOTCERT',
  'PGSSLCRL',
  'PGSSLCRLDIR',
  'PGSSLSNI',
  'PGREQUIREPEER',
  'PGSSLMINPROTOCOLVERSION',
  'PGSSLMAXPROTOCOLVERSION',
  'PGMINPROTOCOLVERSION',
  'PGMAXPROTOCOLVERSION',
  'PGGSSENCMODE',
  'PGKRBSRVNAME',
  'PGGSSLIB',
  'PGGSSDELEGATION',
  'PGCHANNELBINDING',
  'PGREQUIREAUTH',
  'PGCONNECT_TIMEOUT',
  'PGCLIENTENCODING',
  'PGTARGETSESSIONATTRS',
  'PGLOADBALANCEHOSTS',
  'PGDATESTYLE',
  'PGTZ',
  'PGGEQO',
  'PGSYSCONFDIR',
  'PGLOCALEDIR',
  'PG_COLOR',
  'PG_COLORS',
]);

/** Whether a program may inherit the variable: named in {@link INHERITED_NAMES}, or a locale category. */
function isInherited(name: string): boolean {
  return INHERITED_NAMES.has(name) || name.startsWith('LC_');
}

/**
 * The environment of a PostgreSQL client program: the allowed variables of `env` (the
 * runner's own), with `password` (or none: libpq's password file) as PGPASSWORD.
 */
export function toolEnvironment(
  env: NodeJS.ProcessEnv,
  password: string | undefined,
): NodeJS.ProcessEnv {
  const inherited = Object.fromEntries(
    Object.entries(env).filter(([name, value]) => isInherited(name) && value !== undefined),
  );
  return password === undefined ? inherited : { ...inherited, PGPASSWORD: password };
}

/** Starts the program; read `stdout` to the end and await `exited`. */
export function startToolProcess(input: ToolProcessInput): ToolProcess {
  const child = spawn(input.binary, input.args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: toolEnvironment(process.env, input.credentials.password),
  });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-STDERR_LIMIT);
  });
  const exited = new Promise<string>((resolve, reject) => {
    child.on('error', (error) =>
      reject(new PostgresError(`cannot run ${input.binary}: ${error.message}`, { cause: error })),
    );
    child.on('close', (code, signal) => {
      if (code === 0) {
        resolve(stderr);
        return;
      }
      reject(input.failureOf(stderr, describeExit(code, signal)));
    });
  });
  return { stdout: child.stdout, exited, kill: () => child.kill('SIGTERM') };
}

/** How a program ended, for a message: `exit status 2` or `signal SIGKILL`. */
export function describeExit(code: number | null, signal: NodeJS.Signals | null): string {
  return signal === null ? `exit status ${code}` : `signal ${signal}`;
}

/** The last `count` lines of a program's output, for a message. */
export function lastLines(text: string, count: number): string {
  return text.trim().split('\n').slice(-count).join('\n');
}

/** The last lines of a program's stderr, for an error message. */
export function stderrTail(stderr: string): string {
  return lastLines(stderr, 6);
}

/** Whether the program's stderr says the server refused the login. */
export function isAuthenticationFailure(stderr: string): boolean {
  return /password authentication failed|no password supplied/.test(stderr);
}
