/**
 * Memory of the environment's daemons, read from /proc: for each daemon, the resident set
 * of it and all its descendants now, and the sum of each one's peak (VmHWM). PostgreSQL's
 * children start sessions of their own, so process groups would miss them. Shared memory
 * is counted once per process that maps it, so the sums err high.
 */
import { readdirSync, readFileSync } from 'node:fs';

/** Resident memory of a daemon and its descendants, in bytes. */
export interface GroupMemory {
  readonly processes: number;
  readonly rssBytes: number;
  readonly peakRssBytes: number;
}

function statusField(status: string, field: string): number {
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
  return match?.[1] === undefined ? 0 : Number(match[1]) * 1024;
}

function parentOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The fields after the parenthesised command are: state, ppid, ...
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return undefined;
  }
}

function descendantsAndSelf(root: number): number[] {
  const pids = readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .map(Number);
  const parents = new Map(pids.map((pid) => [pid, parentOf(pid)]));
  const family = new Set([root]);
  let grew = true;
  while (grew) {
    grew = false;
    for (const [pid, parent] of parents) {
      if (parent !== undefined && family.has(parent) && !family.has(pid)) {
        family.add(pid);
        grew = true;
      }
    }
  }
  return [...family];
}

/** Memory of the daemon `root` and every process it started. */
export function groupMemory(root: number): GroupMemory {
  let processes = 0;
  let rssBytes = 0;
  let peakRssBytes = 0;
  for (const pid of descendantsAndSelf(root)) {
    try {
      const status = readFileSync(`/proc/${pid}/status`, 'utf8');
      processes += 1;
      rssBytes += statusField(status, 'VmRSS');
      peakRssBytes += statusField(status, 'VmHWM');
    } catch {
      // The process ended while we looked.
    }
  }
  return { processes, rssBytes, peakRssBytes };
}
