/**
 * Background servers and one-shot tools, as plain processes. Daemons run detached in their
 * own process group with output to a log file, and are tracked by pid files in the state
 * directory, so `env:up` can exit while they keep running and `env:down` finds them again.
 */
import { execFile, spawn } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/** Who a process runs as, when the harness is root and the server refuses to be. */
export interface RunAs {
  readonly uid: number;
  readonly gid: number;
}

export interface DaemonSpec {
  readonly name: string;
  readonly command: string;
  readonly args: readonly string[];
  /** Added to a minimal environment; secrets travel here, never in `args`. */
  readonly env?: Readonly<Record<string, string>>;
  readonly runAs?: RunAs | undefined;
  readonly cwd?: string;
}

/** Raised when a tool exits non-zero or a server does not become ready. */
export class HarnessError extends Error {
  override readonly name = 'HarnessError';
}

function pidFile(state: string, name: string): string {
  return join(state, 'pids', `${name}.pid`);
}

/** The log file of a daemon. */
export function logFile(state: string, name: string): string {
  return join(state, 'logs', `${name}.log`);
}

function baseEnv(): Record<string, string> {
  const keep = ['PATH', 'HOME', 'LANG', 'TZ', 'TMPDIR'];
  const env: Record<string, string> = {};
  for (const key of keep) {
    const value = process.env[key];
    if (value !== undefined) env[key] = value;
  }
  return env;
}

/** Starts a daemon detached from this process and records its pid. */
export function startDaemon(state: string, spec: DaemonSpec): number {
  mkdirSync(join(state, 'pids'), { recursive: true });
  mkdirSync(join(state, 'logs'), { recursive: true });
  const out = openSync(logFile(state, spec.name), 'a');
  try {
    const child = spawn(spec.command, spec.args, {
      detached: true,
      stdio: ['ignore', out, out],
      env: { ...baseEnv(), ...spec.env },
      cwd: spec.cwd ?? state,
      ...(spec.runAs === undefined ? {} : { uid: spec.runAs.uid, gid: spec.runAs.gid }),
    });
    if (child.pid === undefined) {
      throw new HarnessError(`could not start ${spec.name} (${spec.command})`);
    }
    child.unref();
    writeFileSync(pidFile(state, spec.name), `${child.pid}\n`);
    return child.pid;
  } finally {
    closeSync(out);
  }
}

/** The recorded pid of a daemon, if it is still running. */
export function runningPid(state: string, name: string): number | undefined {
  const file = pidFile(state, name);
  if (!existsSync(file)) return undefined;
  const pid = Number.parseInt(readFileSync(file, 'utf8'), 10);
  return Number.isInteger(pid) && isAlive(pid) ? pid : undefined;
}

/** Whether a process with this pid exists (one this user may signal). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // Already gone: stopping is idempotent.
  }
}

/**
 * Stops a daemon and its process group: `signal` first (each server's clean shutdown),
 * SIGKILL after `graceMs`. Returns once the process is gone.
 */
export async function stopDaemon(
  state: string,
  name: string,
  options: { signal?: NodeJS.Signals; graceMs?: number } = {},
): Promise<void> {
  const pid = runningPid(state, name);
  if (pid !== undefined) {
    signalGroup(pid, options.signal ?? 'SIGTERM');
    const deadline = Date.now() + (options.graceMs ?? 20_000);
    while (isAlive(pid) && Date.now() < deadline) await sleep(100);
    if (isAlive(pid)) signalGroup(pid, 'SIGKILL');
    while (isAlive(pid)) await sleep(50);
  }
  rmSync(pidFile(state, name), { force: true });
}

export interface ToolOptions {
  readonly env?: Readonly<Record<string, string>>;
  readonly runAs?: RunAs | undefined;
  readonly cwd?: string;
  readonly timeoutMs?: number;
}

/** Runs a tool to completion and returns its standard output; non-zero exit throws. */
export function runTool(
  command: string,
  args: readonly string[],
  options: ToolOptions = {},
): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    execFile(
      command,
      [...args],
      {
        env: { ...baseEnv(), ...options.env },
        cwd: options.cwd,
        timeout: options.timeoutMs ?? 600_000,
        maxBuffer: 64 * 1024 * 1024,
        ...(options.runAs === undefined ? {} : { uid: options.runAs.uid, gid: options.runAs.gid }),
      },
      (error, stdout, stderr) => {
        if (error) {
          const detail = stderr.trim().split('\n').slice(-15).join('\n');
          reject(
            new HarnessError(`${command} ${args.join(' ')} failed: ${detail}`, { cause: error }),
          );
          return;
        }
        resolvePromise(stdout);
      },
    );
  });
}

/**
 * Polls `check` every 200 ms until it returns a value other than `false` or `undefined`, and
 * returns that value; a check that throws is tried again. After `timeoutMs` it fails with
 * `what`, the last error and the tail of `log`.
 */
export async function waitUntil<T>(
  what: string,
  check: () => Promise<T | false | undefined>,
  options: { timeoutMs: number; log?: string; intervalMs?: number },
): Promise<T> {
  const deadline = Date.now() + options.timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value !== false && value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    await sleep(options.intervalMs ?? 200);
  }
  const tail =
    options.log !== undefined && existsSync(options.log)
      ? readFileSync(options.log, 'utf8').split('\n').slice(-30).join('\n')
      : '';
  const reason = lastError instanceof Error ? ` (last error: ${lastError.message})` : '';
  throw new HarnessError(
    `timed out after ${options.timeoutMs} ms waiting for ${what}${reason}\n${tail}`,
  );
}
