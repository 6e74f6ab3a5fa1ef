/**
 * The memory and CPU of a changing set of processes (a receiver and the pg_receivewal it
 * runs; pgBackRest's asynchronous archiver and its workers, which come and go), sampled from
 * /proc a few times a second: the peak of their summed resident memory, and the CPU seconds
 * each used, as last seen alive (so a process's last fraction of a sampling interval is not
 * counted: negligible for long-lived ones).
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

const CLOCK_TICKS_PER_SECOND = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }));
const PAGE_BYTES = Number(execFileSync('getconf', ['PAGESIZE'], { encoding: 'utf8' }));

/** A process's fields of /proc/PID/stat that the sampler reads. */
export interface ProcessStat {
  readonly pid: number;
  /** Its command name (comm), e.g. `node`, `pg_receivewal`, `postgres`. */
  readonly name: string;
  readonly parentPid: number;
  /** Its own CPU (utime + stime), in seconds. */
  readonly cpuSeconds: number;
  /** CPU of its children that it waited for (cutime + cstime), in seconds. */
  readonly waitedChildrenCpuSeconds: number;
  readonly rssBytes: number;
}

/** /proc/PID/stat of a process; undefined once it is gone. */
export function readProcessStat(pid: number): ProcessStat | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = (index: number) => Number(fields[index] ?? 0);
    return {
      pid,
      name: stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')),
      parentPid: ticks(1),
      cpuSeconds: (ticks(11) + ticks(12)) / CLOCK_TICKS_PER_SECOND,
      waitedChildrenCpuSeconds: (ticks(13) + ticks(14)) / CLOCK_TICKS_PER_SECOND,
      rssBytes: ticks(21) * PAGE_BYTES,
    };
  } catch {
    return undefined;
  }
}

/** Every live process's stat. */
export function readAllProcessStats(): ProcessStat[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .flatMap((entry) => readProcessStat(Number(entry)) ?? []);
}

/** A process and its descendants, among `stats`. */
export function processTree(root: number, stats: readonly ProcessStat[]): ProcessStat[] {
  const tree: ProcessStat[] = [];
  const members = new Set([root]);
  let grew = true;
  while (grew) {
    grew = false;
    for (const stat of stats) {
      if (!members.has(stat.pid) && members.has(stat.parentPid)) {
        members.add(stat.pid);
        grew = true;
      }
    }
  }
  for (const stat of stats) if (members.has(stat.pid)) tree.push(stat);
  return tree;
}

/** Which processes to count now: those whose memory counts, and those whose CPU only counts. */
export interface Selection {
  readonly memoryAndCpu: readonly ProcessStat[];
  readonly cpuOnly?: readonly ProcessStat[];
}

/** What a sampler saw. */
export interface ProcessTally {
  readonly peakRssBytes: number;
  /** The summed memory in the first and the second half of the sampling: is it flat? */
  readonly peakRssBytesFirstHalf: number;
  readonly peakRssBytesSecondHalf: number;
  readonly cpuSeconds: number;
  /** The part of {@link cpuSeconds} used by the processes whose memory counts. */
  readonly memoryProcessesCpuSeconds: number;
  /** CPU seconds and peak RSS by command name, to see where the cost is. */
  readonly byName: ReadonlyMap<string, { cpuSeconds: number; peakRssBytes: number }>;
}

/** The summed RSS of some processes, and by command name. */
function summedRss(stats: readonly ProcessStat[]): { rss: number; rssByName: Map<string, number> } {
  let rss = 0;
  const rssByName = new Map<string, number>();
  for (const stat of stats) {
    rss += stat.rssBytes;
    rssByName.set(stat.name, (rssByName.get(stat.name) ?? 0) + stat.rssBytes);
  }
  return { rss, rssByName };
}

/** Samples `select()` every `intervalMs` until `stop()`, which returns the tally. */
export function startProcessSampler(
  select: (stats: readonly ProcessStat[]) => Selection,
  intervalMs = 250,
): { stop(): ProcessTally } {
  const baselineCpu = new Map<number, number>();
  const lastCpu = new Map<number, number>();
  const nameOf = new Map<number, string>();
  const cpuOnlyPids = new Set<number>();
  const peakRssByName = new Map<string, number>();
  const rssSeries: number[] = [];
  const recordCpu = (stat: ProcessStat) => {
    nameOf.set(stat.pid, stat.name);
    // A process already running at the first sample counts from there.
    if (!baselineCpu.has(stat.pid)) {
      baselineCpu.set(stat.pid, rssSeries.length === 0 ? stat.cpuSeconds : 0);
    }
    lastCpu.set(stat.pid, stat.cpuSeconds);
  };
  const sample = () => {
    const selection = select(readAllProcessStats());
    const { rss, rssByName } = summedRss(selection.memoryAndCpu);
    for (const [name, bytes] of rssByName) {
      peakRssByName.set(name, Math.max(bytes, peakRssByName.get(name) ?? 0));
    }
    for (const stat of selection.cpuOnly ?? []) cpuOnlyPids.add(stat.pid);
    for (const stat of [...selection.memoryAndCpu, ...(selection.cpuOnly ?? [])]) recordCpu(stat);
    rssSeries.push(rss);
  };
  sample();
  const timer = setInterval(sample, intervalMs);
  return {
    stop: () => {
      clearInterval(timer);
      sample();
      const half = Math.floor(rssSeries.length / 2);
      let cpuSeconds = 0;
      let memoryProcessesCpuSeconds = 0;
      const byName = new Map<string, { cpuSeconds: number; peakRssBytes: number }>();
      for (const [pid, seconds] of lastCpu) {
        const used = seconds - (baselineCpu.get(pid) ?? 0);
        cpuSeconds += used;
        if (!cpuOnlyPids.has(pid)) memoryProcessesCpuSeconds += used;
        const name = nameOf.get(pid) ?? '?';
        const entry = byName.get(name) ?? {
          cpuSeconds: 0,
          peakRssBytes: peakRssByName.get(name) ?? 0,
        };
        byName.set(name, { ...entry, cpuSeconds: entry.cpuSeconds + used });
      }
      return {
        byName,
        memoryProcessesCpuSeconds,
        peakRssBytes: Math.max(...rssSeries),
        peakRssBytesFirstHalf: Math.max(0, ...rssSeries.slice(0, half)),
        peakRssBytesSecondHalf: Math.max(0, ...rssSeries.slice(half)),
        cpuSeconds,
      };
    },
  };
}
