/**
 * One measured restore: the command run under GNU time (`/usr/bin/time`), whose user and
 * system seconds include every descendant the command waited for (tar, zstd, pg_verifybackup,
 * pgBackRest's local workers, the pipe's three programs), as the restoring user; its process
 * tree sampled from /proc for the peak of the summed RSS and the CPU by program; MinIO's CPU
 * over the same time. The page cache is dropped first, when this process may (root), so each
 * restore reads the bucket's files from disk as a restore on a fresh machine would.
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import type { RunAs } from '../../test/harness/env/processes.js';
import { processTree, readProcessStat, startProcessSampler } from '../process-sampler.js';

/** What one restore cost. */
export interface RestoreMeasure {
  readonly seconds: number;
  /** User + system seconds of the command and all its waited-for descendants. */
  readonly cpuSeconds: number;
  /** The peak of the summed RSS of the command's process tree, sampled. */
  readonly peakRssBytes: number;
  readonly minioCpuSeconds: number;
  /** CPU seconds by program name, as sampled (a breakdown: misses the last instant of each). */
  readonly cpuByProgram: ReadonlyMap<string, number>;
}

/** How a restore command is run. */
export interface RestoreCommand {
  readonly command: string;
  readonly args: readonly string[];
  readonly env: NodeJS.ProcessEnv;
  readonly runAs: RunAs | undefined;
  readonly cwd?: string;
}

const DROP_CACHES = '/proc/sys/vm/drop_caches';

/**
 * Writes dirty pages back and drops the page cache; false when this process may not (not
 * root, or a container that forbids it).
 */
export async function dropPageCache(): Promise<boolean> {
  await new Promise<void>((resolve) => spawn('sync').on('close', () => resolve()));
  try {
    writeFileSync(DROP_CACHES, '3\n');
    return true;
  } catch {
    return false;
  }
}

/** Whether {@link dropPageCache} works here (tried once, harmlessly: drop 1 = page cache). */
export function canDropPageCache(): boolean {
  try {
    writeFileSync(DROP_CACHES, '1\n');
    return true;
  } catch {
    return false;
  }
}

function parseTimeOutput(text: string): { cpuSeconds: number } {
  // The last line is ours (`%U %S`); a command killed by a signal adds a line before it.
  const last = text.trim().split('\n').at(-1) ?? '';
  const [user, system] = last.split(' ').map(Number);
  if (user === undefined || system === undefined || Number.isNaN(user + system)) {
    throw new Error(`cannot read /usr/bin/time's output: ${text}`);
  }
  return { cpuSeconds: user + system };
}

/** Runs the command to its end and measures it; rejects with its stderr's tail if it fails. */
export async function measureRestore(
  run: RestoreCommand,
  timeFile: string,
  minioPid: number,
): Promise<RestoreMeasure> {
  const minioBefore = readProcessStat(minioPid)?.cpuSeconds ?? 0;
  const started = process.hrtime.bigint();
  const child = spawn('/usr/bin/time', ['-f', '%U %S', '-o', timeFile, run.command, ...run.args], {
    env: run.env,
    cwd: run.cwd ?? '/',
    stdio: ['ignore', 'ignore', 'pipe'],
    ...(run.runAs === undefined ? {} : { uid: run.runAs.uid, gid: run.runAs.gid }),
  });
  const root = child.pid ?? -1;
  // The tree below GNU time: its own few hundred KiB are not the restore's.
  const sampler = startProcessSampler(
    (stats) => ({ memoryAndCpu: processTree(root, stats).filter((stat) => stat.pid !== root) }),
    100,
  );
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const tally = sampler.stop();
  const minioCpuSeconds = (readProcessStat(minioPid)?.cpuSeconds ?? 0) - minioBefore;
  if (code !== 0) {
    throw new Error(
      `${run.command} ${run.args.join(' ')} failed (${code}):\n${stderr.slice(-4000)}`,
    );
  }
  const { cpuSeconds } = parseTimeOutput(await readFile(timeFile, 'utf8'));
  await rm(timeFile, { force: true });
  const cpuByProgram = new Map<string, number>();
  for (const [name, entry] of tally.byName) cpuByProgram.set(name, entry.cpuSeconds);
  return { seconds, cpuSeconds, peakRssBytes: tally.peakRssBytes, minioCpuSeconds, cpuByProgram };
}
