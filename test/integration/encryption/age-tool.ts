/**
 * Debian's `age` and `age-keygen` as the interoperability tests run them: bytes in on stdin,
 * bytes out on stdout, keys in files of mode 0600 (never on a command line).
 */
import { spawn, spawnSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

/** What a finished `age` run gave. */
export interface AgeRun {
  readonly code: number | null;
  readonly stdout: Buffer;
  readonly stderr: string;
}

/**
 * Throws a set-up error unless the stock tools are installed: the tests prove that they, not
 * only our code, read what we write.
 */
export function requireAgeTools(): void {
  for (const tool of ['age', 'age-keygen']) {
    const probe = spawnSync(tool, ['--version'], { encoding: 'utf8' });
    if (probe.error !== undefined || probe.status !== 0) {
      throw new Error(
        `${tool} is missing: apt-get install -y --no-install-recommends age (listed in .ci/debian-packages.txt)`,
      );
    }
  }
}

/** Runs `age` with `args`, `input` on its stdin. */
export function runAge(args: readonly string[], input: Buffer): Promise<AgeRun> {
  return new Promise((resolve, reject) => {
    const child = spawn('age', [...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    child.on('error', reject);
    child.on('close', (code) =>
      resolve({
        code,
        stdout: Buffer.concat(stdout),
        stderr: Buffer.concat(stderr).toString('utf8'),
      }),
    );
    // age may exit before reading everything (a bad header); that is its answer, not ours.
    child.stdin.on('error', () => undefined);
    child.stdin.end(input);
  });
}

/** A key file written by `age-keygen -o` in `directory`, and its text. */
export async function generateKeyFile(
  directory: string,
  name: string,
): Promise<{ path: string; text: string }> {
  const path = join(directory, name);
  const run = spawnSync('age-keygen', ['-o', path], { encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`age-keygen failed: ${run.stderr}`);
  return { path, text: await readFile(path, 'utf8') };
}
