/**
 * One measured run of a peer's command (bench/binary, bench/logical): its wall time, the CPU
 * seconds of the tool's processes (exactly, through a cgroup they all start in, orphans and
 * short-lived workers included; without one, what this process waited for), the CPU the
 * database server's reaped backends (walsender, pg_dump's session) and MinIO used meanwhile,
 * and the peak of the summed RSS of the tool's process tree, sampled every 100 ms.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { RunAs } from '../../test/harness/env/processes.js';
import type { CpuCgroup } from '../cpu-cgroup.js';
import { processTree, readProcessStat, startProcessSampler } from '../process-sampler.js';

/** What one run of a tool cost. */
export interface ToolRun {
  readonly seconds: number;
  /** CPU seconds of the tool's own processes. */
  readonly toolCpuSeconds: number;
  /** CPU seconds of the database server's backends that ended meanwhile (reaped by the postmaster). */
  readonly serverCpuSeconds: number;
  readonly minioCpuSeconds: number;
  /** Peak of the summed RSS of the tool's process tree. */
  readonly peakRssBytes: number;
  /** Peak RSS of the tool's processes named `node` (ours: the runner alone). */
  readonly nodeRssBytes: number;
  /** Whether the tool's CPU came from its cgroup (exact) or from waited-for children only. */
  readonly exactCpu: boolean;
  readonly stderr: string;
}

/** A command to measure. */
export interface CommandSpec {
  readonly command: string;
  readonly args: readonly string[];
  /** The whole environment of the command (secrets travel here, never in `args`). */
  readonly env: NodeJS.ProcessEnv;
  /** The account it runs as (pgBackRest and barman read the data directory as its owner). */
  readonly runAs?: RunAs | undefined;
  readonly cwd?: string;
}

/** Where the CPU of a run is counted. */
export interface Accounting {
  readonly cgroup: CpuCgroup | undefined;
  /** `cgroup.procs` of {@link cgroup}, which the wrapper shell writes its pid into. */
  readonly cgroupProcs: string | undefined;
  readonly postmasterPid: number;
  readonly minioPid: number;
}

/** How long the server's backends of a run are given to be reaped once the tool exited. */
const SETTLE_MS = 300;

/** utime+stime (+ cutime+cstime) of a process, in seconds. */
function cpuOf(pid: number | 'self', withChildren: boolean): number {
  const stat = readProcessStat(pid === 'self' ? process.pid : pid);
  if (stat === undefined) return 0;
  return stat.cpuSeconds + (withChildren ? stat.waitedChildrenCpuSeconds : 0);
}

/**
 * The wrapper that starts the command: a shell that joins the cgroup (so the command and all
 * it forks are counted from their first instruction) and drops to `runAs` with setpriv.
 */
function wrapped(spec: CommandSpec, accounting: Accounting): [string, string[]] {
  const drop =
    spec.runAs === undefined
      ? []
      : ['setpriv', `--reuid=${spec.runAs.uid}`, `--regid=${spec.runAs.gid}`, '--clear-groups'];
  const join = accounting.cgroupProcs === undefined ? '' : 'echo $$ > "$0" && ';
  return [
    'sh',
    ['-c', `${join}exec "$@"`, accounting.cgroupProcs ?? 'sh', ...drop, spec.command, ...spec.args],
  ];
}

/** Runs a command to completion and measures it; rejects with its stderr's tail when it fails. */
export async function measureCommand(spec: CommandSpec, accounting: Accounting): Promise<ToolRun> {
  const cgroupBefore = accounting.cgroup?.usageSeconds() ?? 0;
  const selfBefore = cpuOf('self', true) - cpuOf('self', false);
  const serverBefore = cpuOf(accounting.postmasterPid, true);
  const minioBefore = cpuOf(accounting.minioPid, false);
  const started = process.hrtime.bigint();
  const [command, args] = wrapped(spec, accounting);
  const child = spawn(command, args, {
    env: spec.env,
    cwd: spec.cwd,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const root = child.pid ?? -1;
  const sampler = startProcessSampler((stats) => ({ memoryAndCpu: processTree(root, stats) }), 100);
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
    if (stderr.length > 1_000_000) stderr = stderr.slice(-500_000);
  });
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const tally = sampler.stop();
  if (code !== 0) {
    throw new Error(`${spec.command} failed (${code}):\n${stderr.slice(-4000)}`);
  }
  await sleep(SETTLE_MS);
  const waited = cpuOf('self', true) - cpuOf('self', false) - selfBefore;
  const node = [...tally.byName].filter(([name]) => name === 'node' || name === 'MainThread');
  return {
    seconds,
    toolCpuSeconds:
      accounting.cgroup === undefined ? waited : accounting.cgroup.usageSeconds() - cgroupBefore,
    exactCpu: accounting.cgroup !== undefined,
    serverCpuSeconds: cpuOf(accounting.postmasterPid, true) - serverBefore,
    minioCpuSeconds: cpuOf(accounting.minioPid, false) - minioBefore,
    peakRssBytes: tally.peakRssBytes,
    nodeRssBytes: Math.max(0, ...node.map(([, use]) => use.peakRssBytes)),
    stderr,
  };
}

/** The pid in a data directory's postmaster.pid. */
export function postmasterPidOf(dataDir: string): number {
  const pid = Number.parseInt(readFileSync(join(dataDir, 'postmaster.pid'), 'utf8'), 10);
  if (!Number.isInteger(pid)) throw new Error(`${dataDir}/postmaster.pid names no process`);
  return pid;
}
