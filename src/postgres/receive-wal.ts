/**
 * `pg_receivewal` as a long-running process: WAL streamed from the primary over the
 * replication protocol into a spool directory, through a permanent slot, with `--synchronous`
 * so the server only learns of (and its slot only releases) WAL that is fsynced on the spool.
 * The password travels in the environment, never on the command line; stderr is kept for the
 * exit's classification ({@link classifyReceiveWalExit}).
 */
import { spawn } from 'node:child_process';
import type { Credentials, Endpoint } from './credentials.js';
import { formatEndpoint } from './credentials.js';
import { PostgresError } from './errors.js';
import { describeExit, STDERR_LIMIT, stderrTail, toolEnvironment } from './tool-process.js';

/** What {@link startReceiveWal} needs. */
export interface ReceiveWalInput {
  readonly binary: string;
  readonly endpoint: Endpoint;
  readonly credentials: Credentials;
  /** The permanent physical slot (walSlotNameOf). */
  readonly slot: string;
  /** Where the segments go (`<spool>/wal`). */
  readonly directory: string;
  /** `application_name` of the walsender, as pg_stat_replication shows it. */
  readonly applicationName: string;
  /** How often pg_receivewal reports its flush position; default 1 s. */
  readonly statusIntervalSeconds?: number;
}

/** Longest `application_name` PostgreSQL keeps (NAMEDATALEN - 1). */
export const APPLICATION_NAME_MAX = 63;

/** A conninfo value in single quotes, `\` and `'` escaped as libpq wants. */
function quoteConninfoValue(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/** The connection string: no password (it comes from the environment or libpq's password file). */
export function receiveWalConninfo(input: ReceiveWalInput): string {
  const pairs: [string, string][] = [
    ['host', input.endpoint.host],
    ['port', String(input.endpoint.port)],
    ['user', input.credentials.username],
    ['application_name', input.applicationName.slice(0, APPLICATION_NAME_MAX)],
  ];
  return pairs.map(([key, value]) => `${key}=${quoteConninfoValue(value)}`).join(' ');
}

/**
 * The command-line arguments; no secret is among them. No compression: an uncompressed
 * `.partial` is resumed exactly after a restart, and the uploader compresses each file itself.
 * `--no-loop`: the receiver, not pg_receivewal, decides where to reconnect after a failover.
 */
export function receiveWalArguments(input: ReceiveWalInput): string[] {
  return [
    '--no-password',
    `--dbname=${receiveWalConninfo(input)}`,
    `--directory=${input.directory}`,
    `--slot=${input.slot}`,
    '--synchronous',
    '--no-loop',
    `--status-interval=${input.statusIntervalSeconds ?? 1}`,
    '--verbose',
  ];
}

/** Why pg_receivewal ended, as far as its stderr tells. */
export type ReceiveWalExitReason =
  /** Stopped on request (SIGINT), status 0. */
  | 'stopped'
  /** The server no longer has the WAL the spool resumes from (recycled, slot lost or new). */
  | 'segment-removed'
  /** The slot does not exist on the server it connected to. */
  | 'slot-missing'
  /** Another process streams from the slot (an old receiver still alive). */
  | 'slot-active'
  /** The server refused the login. */
  | 'authentication'
  /** The role may not replicate, or pg_hba.conf has no replication line for it. */
  | 'not-permitted'
  /** max_wal_senders or max_connections is exhausted. */
  | 'no-sender'
  /** The connection failed or broke (a primary that went away, a failover). */
  | 'connection'
  /** The spool's file system is full: the bucket must take WAL before more fits. */
  | 'spool-full'
  /** The server is not (or is no longer) a primary, or the timeline ended. */
  | 'not-primary'
  | 'other';

const REASONS: readonly (readonly [Exclude<ReceiveWalExitReason, 'stopped'>, RegExp])[] = [
  ['segment-removed', /requested WAL segment \S+ has already been removed/],
  ['spool-full', /No space left on device/],
  ['slot-missing', /replication slot "[^"]*" does not exist/],
  ['slot-active', /replication slot "[^"]*" is active for PID/],
  ['authentication', /password authentication failed|no password supplied/],
  [
    'not-permitted',
    /must be superuser or replication role|permission denied to start WAL sender|no pg_hba\.conf entry for replication/,
  ],
  [
    'no-sender',
    /exceeds max_wal_senders|too many clients already|remaining connection slots are reserved/,
  ],
  ['not-primary', /recovery is in progress|server switched off timeline .* but/],
  [
    'connection',
    /could not connect|Connection refused|server closed the connection|could not receive data|unexpected termination of replication stream|connection to server .* failed|terminating connection|could not send/,
  ],
];

/** Reads pg_receivewal's stderr: the first known failure it names, else `other`. */
export function classifyReceiveWalExit(stderr: string): Exclude<ReceiveWalExitReason, 'stopped'> {
  for (const [reason, pattern] of REASONS) {
    if (pattern.test(stderr)) return reason;
  }
  return 'other';
}

/** How pg_receivewal ended. */
export interface ReceiveWalExit {
  readonly reason: ReceiveWalExitReason;
  /** `exit status 1`, `signal SIGKILL`. */
  readonly status: string;
  /** A message for a person: what happened and what to do. */
  readonly message: string;
  /** The kept stderr. */
  readonly stderr: string;
}

/** A running pg_receivewal. */
export interface ReceiveWalProcess {
  readonly pid: number | undefined;
  /** Settles (never rejects) when the process has exited. */
  readonly exited: Promise<ReceiveWalExit>;
  /** Asks it to stop cleanly (SIGINT: it closes its file and exits 0). */
  stop(): void;
  /** Kills it (SIGKILL), for a stop that does not come. */
  kill(): void;
}

/** What a person should do about each failure. */
function adviceOf(input: ReceiveWalInput, reason: ReceiveWalExitReason): string {
  const who = `"${input.credentials.username}" (from ${input.credentials.source})`;
  switch (reason) {
    case 'authentication':
      return `the server refused the replication login ${who}: correct the username or password there`;
    case 'not-permitted':
      return `the role ${who} may not stream WAL: give it REPLICATION (ALTER ROLE ... REPLICATION) and allow it a "host replication" line in pg_hba.conf`;
    case 'no-sender':
      return 'the server has no free WAL sender or connection: raise max_wal_senders (and max_connections) on the server, or stop another streaming client';
    case 'slot-active':
      return `another process streams from slot ${input.slot} (an old receiver still running?); it is retried`;
    case 'slot-missing':
      return `slot ${input.slot} does not exist on the server; the receiver creates it and retries`;
    case 'spool-full':
      return `the spool (${input.directory}) is full: the receiver restarts streaming once the bucket took some of it; the slot keeps the rest on the primary meanwhile. Give the spool more room (spec.continuous.spool.size) if the bucket is often slow`;
    case 'segment-removed':
      return 'the server no longer has the WAL the spool resumes from; streaming restarts from the slot, and the missing range is reported as a gap';
    default:
      return 'the receiver finds the primary again and resumes from the spool';
  }
}

/** Starts pg_receivewal; await `exited`. */
export function startReceiveWal(input: ReceiveWalInput): ReceiveWalProcess {
  const child = spawn(input.binary, receiveWalArguments(input), {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: toolEnvironment(process.env, input.credentials.password),
  });
  let stderr = '';
  let stopRequested = false;
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-STDERR_LIMIT);
  });
  const where = formatEndpoint(input.endpoint);
  const exited = new Promise<ReceiveWalExit>((resolve) => {
    child.on('error', (error) => {
      stderr += `\ncannot run ${input.binary}: ${error.message}`;
    });
    child.on('close', (code, signal) => {
      const status = describeExit(code, signal);
      const reason: ReceiveWalExitReason =
        stopRequested && (code === 0 || signal !== null)
          ? 'stopped'
          : classifyReceiveWalExit(stderr);
      const message =
        reason === 'stopped'
          ? `pg_receivewal from ${where} stopped`
          : `pg_receivewal from ${where} ended (${status}): ${stderrTail(stderr).split('\n').slice(-2).join(' / ')}; ${adviceOf(input, reason)}`;
      resolve({ reason, status, message, stderr });
    });
  });
  return {
    pid: child.pid,
    exited,
    stop: () => {
      stopRequested = true;
      child.kill('SIGINT');
    },
    kill: () => {
      stopRequested = true;
      child.kill('SIGKILL');
    },
  };
}

/** A failure to start streaming that retrying cannot fix (a wrong login, a missing privilege). */
export class ReceiveWalError extends PostgresError {
  override readonly name = 'ReceiveWalError';
}
