/**
 * Exact CPU seconds of a group of processes, exited ones and orphans included, through a
 * cgroup's CPU accounting: every process forked inside the group stays in it. pgBackRest's
 * archive-push forks an asynchronous process that outlives it and starts workers, each living
 * a fraction of a second, which sampling /proc misses; a cgroup does not. cgroup v1's cpuacct
 * hierarchy or the cgroup v2 root, whichever is mounted and writable (root only); undefined
 * elsewhere, and the bench falls back to sampling.
 */
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** A cgroup of our own that counts CPU time. */
export interface CpuCgroup {
  /** Moves a process (and what it forks from now on) into the group. */
  add(pid: number): void;
  /** CPU seconds of all the group's processes so far, ended ones included. */
  usageSeconds(): number;
  /** Removes the group; its processes must have ended. */
  remove(): void;
}

const V1_CPUACCT = '/sys/fs/cgroup/cpuacct';
const V2_ROOT = '/sys/fs/cgroup';

function usageReader(dir: string, v1: boolean): () => number {
  if (v1) return () => Number(readFileSync(join(dir, 'cpuacct.usage'), 'utf8')) / 1e9;
  return () => {
    const stat = readFileSync(join(dir, 'cpu.stat'), 'utf8');
    return Number(/usage_usec (\d+)/.exec(stat)?.[1] ?? 0) / 1e6;
  };
}

/** A new cgroup named `name`, or undefined when this machine lets us make none. */
export function createCpuCgroup(name: string): CpuCgroup | undefined {
  const v1 = existsSync(join(V1_CPUACCT, 'cpuacct.usage'));
  const v2 = !v1 && existsSync(join(V2_ROOT, 'cgroup.controllers'));
  if (!v1 && !v2) return undefined;
  const dir = join(v1 ? V1_CPUACCT : V2_ROOT, name);
  try {
    mkdirSync(dir, { recursive: true });
    const usage = usageReader(dir, v1);
    usage();
    return {
      add: (pid) => writeFileSync(join(dir, 'cgroup.procs'), `${pid}\n`),
      usageSeconds: usage,
      remove: () => rmdirSync(dir),
    };
  } catch {
    return undefined;
  }
}
