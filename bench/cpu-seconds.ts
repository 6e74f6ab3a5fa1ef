/**
 * CPU seconds a bench's run cost, servers included, and the machine's load: on a shared
 * machine wall times drift with other work, CPU seconds much less, and the load average says
 * how far to trust the wall times.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { stateDir } from '../test/harness/env/layout.js';
import {
  type Column,
  type Measured,
  median,
  type Round,
  type TimedOptions,
  timed,
} from './runner-bench.js';

/** A run's measures, and the CPU seconds it cost. */
export interface MeasuredWithCpu extends Measured {
  /** CPU seconds of the process and its children, plus those of the servers it used. */
  readonly cpuSeconds: number;
}

/** The environment's servers, by the name of their pid file. */
export type ServerName = 'minio' | 'postgres-primary' | 'postgres-replica';

const CLOCK_TICKS_PER_SECOND = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }));

/**
 * CPU seconds a process used, with its children that it waited for (fields utime, stime,
 * cutime and cstime of /proc/PID/stat): for a postmaster that includes every backend that
 * ended (a walsender, a pg_dump's session).
 */
function cpuSecondsOf(pid: number | 'self'): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = [11, 12, 13, 14].reduce((sum, index) => sum + Number(fields[index] ?? 0), 0);
    return ticks / CLOCK_TICKS_PER_SECOND;
  } catch {
    return 0;
  }
}

function serverPids(servers: readonly ServerName[]): number[] {
  return servers.flatMap((name) => {
    const file = join(stateDir(), 'pids', `${name}.pid`);
    return existsSync(file) ? [Number.parseInt(readFileSync(file, 'utf8'), 10)] : [];
  });
}

/**
 * How long after the command ends its server processes are given to end: a backend or
 * walsender counts in its postmaster's CPU only once the postmaster has reaped it, which can
 * be just after its client (pg_dump, pg_basebackup) exited.
 */
const SERVERS_SETTLE_MS = 300;

/**
 * {@link timed}, and the CPU seconds the run cost: this process's children (the measured
 * command and what it started) plus the servers', read after the servers' sessions of the
 * run have ended. The bench's own CPU (polling, logging) counts too, but is tiny next to a
 * backup's.
 */
export function timedWithCpuOf(servers: readonly ServerName[]) {
  const cpuSecondsNow = () =>
    cpuSecondsOf('self') + serverPids(servers).reduce((sum, pid) => sum + cpuSecondsOf(pid), 0);
  return async (
    command: string,
    args: string[],
    options: TimedOptions = {},
  ): Promise<MeasuredWithCpu> => {
    const before = cpuSecondsNow();
    const measured = await timed(command, args, options);
    await sleep(SERVERS_SETTLE_MS);
    return { ...measured, cpuSeconds: cpuSecondsNow() - before };
  };
}

/** The 1-, 5- and 15-minute load averages. */
export function loadText(): string {
  return loadavg()
    .map((load) => load.toFixed(2))
    .join(' ');
}

/** The load averages at a bench's start (`loadText()` then) and now, for its header. */
export function loadSince(atStart: string): string {
  return `load average ${atStart} at the start, ${loadText()} at the end`;
}

/** What follows "round N/M": both sides' wall times (the baseline named) and the load now. */
export function describeRound(baseline: string): (round: Round<Measured>) => string {
  return ({ ours, baseline: theirs }) =>
    `: ours ${ours.seconds.toFixed(2)} s, ${baseline} ${theirs.seconds.toFixed(2)} s, load ${loadText()}`;
}

/** The medians of both sides' CPU seconds. */
export interface CpuMedians {
  readonly oursCpuSeconds: number;
  readonly baselineCpuSeconds: number;
}

/** {@link CpuMedians} of some rounds. */
export function cpuMedians(results: readonly Round<MeasuredWithCpu>[]): CpuMedians {
  return {
    oursCpuSeconds: median(results.map((result) => result.ours.cpuSeconds)),
    baselineCpuSeconds: median(results.map((result) => result.baseline.cpuSeconds)),
  };
}

/** The two CPU columns; `baseline` names the baseline's command. */
export function cpuColumns(baseline: string): Column<CpuMedians>[] {
  return [
    ['CPU s ours', (row) => row.oursCpuSeconds.toFixed(1)],
    [`CPU s ${baseline}`, (row) => row.baselineCpuSeconds.toFixed(1)],
  ];
}
