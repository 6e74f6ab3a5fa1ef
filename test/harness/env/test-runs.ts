/**
 * The test runs (vitest global setups) using an environment, so that none stops it under
 * another's feet and the last one out stops an environment a test run started. Each run
 * registers a file named by its pid in `<state>/test-runs/`; the run that found the
 * environment stopped and started it leaves the marker `started` there. An environment
 * started by hand (`npm run env:up`) has no marker and is never stopped by a test run.
 * Callers hold the environment's lock (`withLock`), so registering and deciding to stop
 * never interleave.
 */
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isAlive } from './processes.js';

const STARTED = 'started';

function runsDir(state: string): string {
  return join(state, 'test-runs');
}

/** Records that the process `pid` uses the environment; `started`: this run started it. */
export function registerTestRun(state: string, pid: number, started: boolean): void {
  const dir = runsDir(state);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, String(pid)), '');
  if (started) writeFileSync(join(dir, STARTED), `${pid}\n`);
}

/** The pids of the registered test runs that are still alive; dead ones' files are removed. */
export function liveTestRuns(state: string): number[] {
  const dir = runsDir(state);
  if (!existsSync(dir)) return [];
  const live: number[] = [];
  for (const name of readdirSync(dir)) {
    const pid = Number(name);
    if (!Number.isInteger(pid)) continue;
    if (isAlive(pid)) live.push(pid);
    else rmSync(join(dir, name), { force: true });
  }
  return live;
}

/**
 * Removes the registration of `pid` and says whether the environment should stop now: a test
 * run started it (whether or not that run is still here) and no other live run uses it.
 */
export function unregisterTestRun(state: string, pid: number): 'stop' | 'keep' {
  rmSync(join(runsDir(state), String(pid)), { force: true });
  const startedByTestRun = existsSync(join(runsDir(state), STARTED));
  return startedByTestRun && liveTestRuns(state).length === 0 ? 'stop' : 'keep';
}
