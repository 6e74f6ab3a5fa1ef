/**
 * The count of test runs using an environment (test/harness/env/test-runs.ts), on a bare
 * directory: no servers are started or stopped, only the decision is checked.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { liveTestRuns, registerTestRun, unregisterTestRun } from '../../harness/env/test-runs.js';

function stateDir(): string {
  return mkdtempSync(join(tmpdir(), 'pgbackup-test-runs-'));
}

/** The pid of a process that has exited. */
function deadPid(): number {
  const pid = spawnSync('true').pid;
  if (pid === undefined) throw new Error('could not run true');
  return pid;
}

describe('the test runs using an environment', () => {
  it('stops an environment a test run started only when the last live run leaves', () => {
    const state = stateDir();
    // Two live processes stand for two vitest runs: this one started the environment.
    const [first, second] = [process.pid, process.ppid];
    registerTestRun(state, first, true);
    registerTestRun(state, second, false);
    expect(liveTestRuns(state).sort()).toEqual([first, second].sort());

    expect(unregisterTestRun(state, first)).toBe('keep');
    expect(liveTestRuns(state)).toEqual([second]);
    // The run that stayed did not start it, but a test run did: the last one out stops it.
    expect(unregisterTestRun(state, second)).toBe('stop');
  });

  it('ignores runs that died without leaving, and never stops an environment started by hand', () => {
    const crashed = deadPid();
    const startedByCrashedRun = stateDir();
    registerTestRun(startedByCrashedRun, crashed, true);
    registerTestRun(startedByCrashedRun, process.pid, false);
    expect(unregisterTestRun(startedByCrashedRun, process.pid)).toBe('stop');
    expect(existsSync(join(startedByCrashedRun, 'test-runs', String(crashed)))).toBe(false);

    const startedByHand = stateDir();
    registerTestRun(startedByHand, crashed, false);
    registerTestRun(startedByHand, process.pid, false);
    expect(unregisterTestRun(startedByHand, process.pid)).toBe('keep');
  });
});
