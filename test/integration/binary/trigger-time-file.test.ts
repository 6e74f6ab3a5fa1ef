/**
 * Outside a cluster (`-f`) the trigger is `--at` or the start, and the same rules hold: a day
 * the line skips does nothing and touches nothing; a trigger later than the lateness fails and
 * says how to take a backup now without a cluster (`pgbackup backup -f POLICY.yaml`).
 */
import { describe, expect, it } from 'vitest';
import { runPgbackup } from '../../harness/pgbackup-run.js';
import { listKeys, runArgs, writeTestPolicy } from './policy-file.js';

/** Nothing listens here (the test's private subnet): a run that connects fails at once. */
const NOWHERE = '127.0.32.1:9';

describe('the trigger time of a run from a policy file', () => {
  it('fails a trigger later than the lateness before connecting, naming pgbackup backup -f', async () => {
    const policy = await writeTestPolicy('daily.yaml', (document) => {
      document.spec.target.hosts = [NOWHERE];
    });

    // The new user: a 01:00 daily run by hand at 08:31.
    const run = await runPgbackup(runArgs(policy, 'daily', '2026-03-03T08:31:00Z'));

    expect(run.code).toBe(1);
    expect(run.stderr).toContain(
      'the daily run was due at 2026-03-03 01:00 UTC and was triggered 7h31m later, more than the lateness of 6h',
    );
    expect(run.stderr).toContain(
      `Take one now on demand: pgbackup backup -f ${policy.file} --type binary`,
    );
    expect(run.stderr).not.toContain('cannot connect');
    expect(await listKeys(policy.binaryPrefix)).toEqual([]);
  });

  it('does nothing on a day the line skips, without connecting (exit 0)', async () => {
    const policy = await writeTestPolicy('daily.yaml', (document) => {
      document.spec.target.hosts = [NOWHERE];
    });

    const run = await runPgbackup(runArgs(policy, 'weekly', '2026-03-04T01:30:00Z'));

    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(
      /^skipped \(NotFireDay\): 2026-03-04 \(UTC\) is not a fire day of the weekly line/,
    );
    expect(await listKeys(policy.binaryPrefix)).toEqual([]);
  });
});
