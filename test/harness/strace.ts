/**
 * Runs a program under Debian's strace and reads back the system calls it made, in the order
 * they happened, with the paths of their file descriptors (`-y`). Tests use it to observe
 * what cannot be provoked on a shared machine, such as the order of fsync and rename that
 * makes a commit survive a node crash.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

/** One system call: its name, the paths among its arguments, and when it began and ended. */
export interface TracedCall {
  readonly syscall: string;
  /** Paths of its path arguments and file descriptors, in argument order. */
  readonly paths: readonly string[];
  /** Its return value as strace printed it (without the descriptor's path). */
  readonly result: string;
  /** Position of the line where it began, among all lines of the trace. */
  readonly beganAt: number;
  /** Position of the line where it returned. */
  readonly endedAt: number;
}

/** `openat(AT_FDCWD</x>, "/a", …) = 3</a>`: quoted strings, and `<…>` after descriptors. */
const PATH_PATTERN = /"((?:[^"\\]|\\.)*)"|\d+<([^>]*)>/g;

function pathsIn(args: string): string[] {
  return [...args.matchAll(PATH_PATTERN)].flatMap((match) => match[1] ?? match[2] ?? []);
}

/**
 * Parses `strace -f -y -qq -o FILE` output: `PID name(args) = result`, or a call split in
 * two by another thread's line (`PID name(args <unfinished ...>`, then
 * `PID <... name resumed>rest) = result`).
 */
export function parseStrace(text: string): TracedCall[] {
  const calls: TracedCall[] = [];
  const pending = new Map<string, { syscall: string; args: string; beganAt: number }>();
  text.split('\n').forEach((line, position) => {
    const unfinished = /^(\d+)\s+(\w+)\((.*) <unfinished \.\.\.>$/.exec(line);
    if (unfinished !== null) {
      const [, pid = '', syscall = '', args = ''] = unfinished;
      pending.set(pid, { syscall, args, beganAt: position });
      return;
    }
    const resumed = /^(\d+)\s+<\.\.\. (\w+) resumed>(.*)\)\s+= (.*)$/.exec(line);
    if (resumed !== null) {
      const [, pid = '', syscall = '', rest = '', result = ''] = resumed;
      const began = pending.get(pid);
      pending.delete(pid);
      if (began === undefined || began.syscall !== syscall) return;
      const args = `${began.args}${rest}`;
      calls.push({
        syscall,
        paths: pathsIn(args),
        result,
        beganAt: began.beganAt,
        endedAt: position,
      });
      return;
    }
    const complete = /^(\d+)\s+(\w+)\((.*)\)\s+= (.*)$/.exec(line);
    if (complete !== null) {
      const [, , syscall = '', args = '', result = ''] = complete;
      calls.push({ syscall, paths: pathsIn(args), result, beganAt: position, endedAt: position });
    }
  });
  return calls;
}

/**
 * Runs `command args…` under `strace -f` (every thread: Node does file I/O on its thread
 * pool), tracing only `syscalls`, and returns the calls.
 *
 * @throws when strace is missing (it is in .ci/debian-packages.txt) or the program fails
 */
export async function traceSyscalls(
  command: string,
  args: readonly string[],
  syscalls: readonly string[],
  options: { readonly cwd?: string; readonly timeoutMs?: number } = {},
): Promise<TracedCall[]> {
  const dir = await mkdtemp(join(tmpdir(), 'pgbackup-strace-'));
  const output = join(dir, 'trace.txt');
  try {
    await promisify(execFile)(
      'strace',
      ['-f', '-y', '-qq', '-e', `trace=${syscalls.join(',')}`, '-o', output, command, ...args],
      { cwd: options.cwd, timeout: options.timeoutMs ?? 120_000 },
    );
    return parseStrace(await readFile(output, 'utf8'));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
