import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runPgbackup } from '../../harness/pgbackup-run.js';
import { listCommitted, readObjectText, runArgs, writeTestPolicy } from './policy-file.js';

function dayAt(day: number): string {
  return `2026-03-${String(day).padStart(2, '0')}T01:30:00Z`;
}

/** The backup key prefixes with a manifest under a local directory. */
async function listLocalCommitted(root: string, prefix: string): Promise<string[]> {
  const entries = await readdir(join(root, prefix), { recursive: true }).catch(() => []);
  return entries
    .filter((entry) => entry.endsWith('/manifest.json'))
    .map((entry) => `${prefix}${entry.slice(0, -'manifest.json'.length)}`)
    .sort();
}

describe('rotation of binary backups through their slots', () => {
  it('keeps exactly seven dailies after eight daily runs, the eighth replacing its slot’s occupant, remotely and locally', async () => {
    const policy = await writeTestPolicy('with-local-copy.yaml');
    const committed: string[] = [];
    for (let day = 1; day <= 8; day += 1) {
      const run = await runPgbackup(runArgs(policy, 'daily', dayAt(day)));
      expect(run.code, run.stderr).toBe(0);
      const key = /committed (\S+)/.exec(run.stdout)?.[1];
      if (key === undefined) throw new Error(`run ${day} committed nothing: ${run.stdout}`);
      committed.push(key);
    }
    const [first, ...rest] = committed;
    const eighth = committed[7] ?? '';
    // Day 8 falls in day 1's slot: same slot directory, and day 1's backup is gone.
    expect(eighth.split('/').slice(-3, -2)).toEqual(first?.split('/').slice(-3, -2));
    expect(await listCommitted(policy.binaryPrefix)).toEqual([...rest].sort());
    expect(await listLocalCommitted(policy.localDir, policy.binaryPrefix)).toEqual(
      [...rest].sort(),
    );
    const labels = await Promise.all(
      rest.map(async (key) => JSON.parse(await readObjectText(`${key}manifest.json`)).slotLabel),
    );
    expect(new Set(labels).size).toBe(7);
  });

  it('takes a weekly and a daily on the same Sunday as two separate backups', async () => {
    const policy = await writeTestPolicy('daily.yaml');
    const sunday = '2026-03-08T01:30:00Z';

    const daily = await runPgbackup(runArgs(policy, 'daily', sunday));
    const weekly = await runPgbackup(runArgs(policy, 'weekly', sunday));

    expect(daily.code, daily.stderr).toBe(0);
    expect(weekly.code, weekly.stderr).toBe(0);
    const backups = await listCommitted(policy.binaryPrefix);
    expect(backups).toHaveLength(2);
    expect(
      backups.map((key) => key.slice(policy.binaryPrefix.length).split('/')[0]).sort(),
    ).toEqual(['daily', 'weekly']);
  });

  it('skips cleanly, deleting nothing, when the period is already committed or it is not the line’s day', async () => {
    const policy = await writeTestPolicy('daily.yaml');
    const first = await runPgbackup(runArgs(policy, 'daily', '2026-03-03T01:30:00Z'));
    expect(first.code, first.stderr).toBe(0);

    const again = await runPgbackup(runArgs(policy, 'daily', '2026-03-03T02:30:00Z'));
    const weekday = await runPgbackup(runArgs(policy, 'weekly', '2026-03-04T01:30:00Z'));

    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/^skipped \(PeriodTaken\)/);
    expect(weekday.code, weekday.stderr).toBe(0);
    expect(weekday.stdout).toMatch(/^skipped \((NotFireDay|TooLate)\)/);
    expect(await listCommitted(policy.binaryPrefix)).toHaveLength(1);
  });
});
