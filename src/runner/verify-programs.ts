/**
 * The programs of the restore drill (tar, pg_verifybackup, pg_amcheck) run to completion:
 * their exit status, the last lines of their output, and their stderr line by line for a
 * caller that counts what they did. No secret is ever among their arguments: the drill's
 * server trusts local connections, and the bucket is read by the runner itself.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { describeExit, toolEnvironment } from '../postgres/tool-process.js';

/** How much of a program's stdout and stderr is kept. */
const KEEP_CHARS = 16 * 1024;

/** How a program ended. */
export interface ProgramOutcome {
  /** Exit status, or undefined when a signal ended it. */
  readonly status: number | undefined;
  /** How it ended, for a message: `exit status 2` or `signal SIGKILL`. */
  readonly exit: string;
  /** The last lines of stdout and stderr. */
  readonly stdout: string;
  readonly stderr: string;
}

function keep(text: string, chunk: string): string {
  return (text + chunk).slice(-KEEP_CHARS);
}

/** Runs a program; `onStderrLine` sees every line of its stderr. */
export function runProgram(
  binary: string,
  args: readonly string[],
  onStderrLine: (line: string) => void = () => undefined,
): Promise<ProgramOutcome> {
  return new Promise((resolve, reject) => {
    // Only what a program needs from the environment: never the bucket's keys.
    const child = spawn(binary, [...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: toolEnvironment(process.env, undefined),
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout = keep(stdout, chunk);
    });
    const lines = createInterface({ input: child.stderr, crlfDelay: Number.POSITIVE_INFINITY });
    lines.on('line', (line) => {
      stderr = keep(stderr, `${line}\n`);
      onStderrLine(line);
    });
    child.on('error', (error) =>
      reject(new Error(`cannot run ${binary}: ${error.message}`, { cause: error })),
    );
    child.on('close', (code, signal) =>
      resolve({
        status: code ?? undefined,
        exit: describeExit(code, signal),
        stdout: stdout.trimEnd(),
        stderr: stderr.trimEnd(),
      }),
    );
  });
}
