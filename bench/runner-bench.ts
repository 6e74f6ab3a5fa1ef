/**
 * What the runner's benches share: the runner compiled as the image runs it, the environment
 * up, their policies aimed at it and their uploads deleted, and each measured process's wall
 * time and peak RSS (VmHWM, polled from /proc until it exits; its children are not counted).
 */
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DeleteObjectCommand } from '@aws-sdk/client-s3';
import { parse, stringify } from 'yaml';
import { upEnvironment } from '../test/harness/env/environment.js';
import { repoRoot } from '../test/harness/env/layout.js';
import { testBucket, testS3Client } from '../test/harness/s3.js';
import { listKeys } from '../test/integration/binary/policy-file.js';

/**
 * Compiles the runner to .cache/bench-dist (the image runs compiled JavaScript, not
 * TypeScript through tsx), starts the environment if it is not up and exports its variables;
 * returns the runner's entry point.
 */
export async function prepareRunnerBench(): Promise<string> {
  const buildDir = join(repoRoot, '.cache', 'bench-dist');
  execFileSync(join(repoRoot, 'node_modules', '.bin', 'tsc'), [
    '-p',
    join(repoRoot, 'tsconfig.build.json'),
    '--outDir',
    buildDir,
  ]);
  const variables = await upEnvironment((message) => process.stderr.write(`env: ${message}\n`));
  Object.assign(process.env, variables);
  return join(buildDir, 'cli', 'main.js');
}

/** What one run of a command cost. */
export interface Measured {
  readonly seconds: number;
  readonly maxRssKiB: number;
  /** Everything the process wrote to stderr (the runner's log). */
  readonly stderr: string;
}

/** A policy under bench/fixtures/ aimed at the environment's servers and bucket prefix. */
export async function writeBenchPolicy(
  fixture: string,
  file: string,
  prefix: string,
  edit: (spec: Record<string, Record<string, unknown>>) => void = () => undefined,
): Promise<string> {
  const policy = parse(await readFile(join(repoRoot, 'bench', 'fixtures', fixture), 'utf8'));
  policy.spec.target.hosts = [process.env.PGBACKUP_REPLICA, process.env.PGBACKUP_PRIMARY];
  Object.assign(policy.spec.storage.s3, {
    bucket: testBucket(),
    prefix,
    endpoint: process.env.PGBACKUP_S3_ENDPOINT,
    region: process.env.AWS_REGION,
  });
  edit(policy.spec);
  await writeFile(file, stringify(policy));
  return file;
}

/** Deletes what a bench uploaded under a prefix. */
export async function deleteUnder(prefix: string): Promise<void> {
  for (const key of await listKeys(prefix)) {
    await testS3Client().send(new DeleteObjectCommand({ Bucket: testBucket(), Key: key }));
  }
}

/** VmHWM of a running process, in KiB; 0 once it is gone. */
export function peakRssKiB(pid: number): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    return Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? 0);
  } catch {
    return 0;
  }
}

/** How a measured command is started: its environment, directory and stdout. */
export interface TimedOptions {
  readonly env: NodeJS.ProcessEnv;
  readonly cwd: string;
  /** A file descriptor for stdout; default: discarded. */
  readonly stdoutFd?: number;
}

/** Runs a command to completion; rejects with its stderr's tail when it fails. */
export function timed(command: string, args: string[], options: TimedOptions): Promise<Measured> {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(command, args, {
      env: options.env,
      cwd: options.cwd,
      stdio: ['ignore', options.stdoutFd ?? 'ignore', 'pipe'],
    });
    let stderr = '';
    let maxRssKiB = 0;
    const poll = setInterval(() => {
      if (child.pid !== undefined) maxRssKiB = Math.max(maxRssKiB, peakRssKiB(child.pid));
    }, 50);
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on('close', (code) => {
      clearInterval(poll);
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      if (code !== 0) {
        reject(new Error(`${command} failed (${code}):\n${stderr.slice(-5000)}`));
        return;
      }
      resolve({ seconds, maxRssKiB, stderr });
    });
  });
}

/** The median of some numbers. */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[middle] ?? 0)
    : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
}

/** Seconds between two messages of a pino log (the runner's stderr). */
export function secondsBetween(log: string, from: string, to: string): number {
  const times = new Map<string, number>();
  for (const line of log.split('\n')) {
    try {
      const entry = JSON.parse(line) as { msg?: string; time?: number };
      if (entry.msg !== undefined && entry.time !== undefined && !times.has(entry.msg)) {
        times.set(entry.msg, entry.time);
      }
    } catch {
      // Not a log line (a Node warning).
    }
  }
  return ((times.get(to) ?? 0) - (times.get(from) ?? 0)) / 1000;
}
