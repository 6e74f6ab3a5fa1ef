/**
 * Two runners whose clocks differ by minutes (issue 14, finding 9), against the real primary
 * and bucket: on a Sunday the daily and the weekly fire at the same instant; the daily's
 * runner is 10 minutes ahead (libfaketime), the weekly's is right and runs after it. Each
 * runner stamps `committedAt` with its own clock, so that field says the daily came last;
 * the server's clock says the weekly did, and it decides: `pgbackup list` shows the weekly
 * first and a restore that names no backup takes it.
 */
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { findBackup } from '../../../src/runner/backup-choice.js';
import type { BackupManifest } from '../../../src/storage/index.js';
import { runEnvironment, runPgbackup, startPgbackup } from '../../harness/pgbackup-run.js';
import { testS3Store } from '../../harness/s3.js';
import { readObjectText, runArgs, writeTestPolicy } from '../binary/policy-file.js';

const SUNDAY = '2026-03-08T01:30:00Z';

/** The environment of a runner whose clock is `offset` (libfaketime's `+10m`) off. */
function skewedRunEnvironment(offset: string): NodeJS.ProcessEnv {
  const library = execFileSync('dpkg', ['-L', 'libfaketime'], { encoding: 'utf8' })
    .split('\n')
    .find((path) => path.endsWith('/libfaketime.so.1'));
  if (library === undefined) throw new Error('libfaketime is missing: apt-get install faketime');
  return runEnvironment({
    LD_PRELOAD: library,
    FAKETIME: offset,
    // Timers keep the real monotonic clock: only the wall clock is skewed.
    FAKETIME_DONT_FAKE_MONOTONIC: '1',
  });
}

async function committedKey(run: Promise<{ code: number | null; stdout: string; stderr: string }>) {
  const outcome = await run;
  expect(outcome.code, outcome.stderr).toBe(0);
  const key = /committed (\S+)/.exec(outcome.stdout)?.[1];
  if (key === undefined) throw new Error(`the run committed nothing: ${outcome.stdout}`);
  return key;
}

async function manifestOf(key: string): Promise<BackupManifest> {
  return JSON.parse(await readObjectText(`${key}manifest.json`)) as BackupManifest;
}

describe('two runners whose clocks differ by minutes', () => {
  it("judge the newest by the server's clock: pgbackup list and restore agree on the weekly", async () => {
    const policy = await writeTestPolicy('daily.yaml');
    const daily = await committedKey(
      runPgbackup(runArgs(policy, 'daily', SUNDAY), skewedRunEnvironment('+10m')),
    );
    const weekly = await committedKey(runPgbackup(runArgs(policy, 'weekly', SUNDAY)));

    const [dailyManifest, weeklyManifest] = await Promise.all([
      manifestOf(daily),
      manifestOf(weekly),
    ]);
    // The skew is real: the runners' clocks put the daily after the weekly…
    expect(Date.parse(dailyManifest.committedAt)).toBeGreaterThan(
      Date.parse(weeklyManifest.committedAt),
    );
    // …and the server's clock, recorded in both manifests, puts it before.
    expect(Date.parse(dailyManifest.server.startedAt ?? '')).toBeLessThan(
      Date.parse(weeklyManifest.server.startedAt ?? ''),
    );

    const listed = await startPgbackup(
      ['list', '-f', policy.file, '--type', 'binary', '-o', 'json'],
      runEnvironment(),
    ).outcome;
    expect(listed.code, listed.stderr).toBe(0);
    const rows = JSON.parse(listed.stdout) as { key: string }[];
    expect(rows.map(({ key }) => key)).toEqual([weekly, daily]);

    const { namespace, name, prefix } = policy;
    const store = testS3Store();
    const chosen = await findBackup({ namespace, policy: name, prefix, store }, 'binary', {});
    expect(chosen.key).toBe(weekly);
  });
});
