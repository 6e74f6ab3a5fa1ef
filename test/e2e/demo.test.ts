import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../harness/env/layout.js';

interface DemoRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `npm run demo` as the README says (here through tsx directly, as npm would). */
function runDemo(): Promise<DemoRun> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      // The local executor: test/e2e/node/ runs the real node (one per environment) itself.
      ['--import', 'tsx', join(repoRoot, 'scripts', 'demo.ts'), '--local-executor'],
      { cwd: repoRoot, env: process.env, maxBuffer: 16 * 1024 * 1024, timeout: 600_000 },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : 1;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** The rows of the slot table the demo prints: `type line` of each occupied slot. */
function occupiedSlots(stdout: string): string[] {
  const table = stdout.split('TYPE     LINE       SLOT')[1]?.split('slots empty)')[0] ?? '';
  return table
    .split('\n')
    .slice(1)
    .map((row) => row.split(/\s+/).slice(0, 2).join(' '))
    .filter((row) => row.trim() !== '' && !row.startsWith('('));
}

describe('npm run demo (the first command in the README)', () => {
  it("runs every CronJob of the quickstart and prints today's slots, in the cluster and in the bucket", async () => {
    const run = await runDemo();
    expect(run.code, run.stderr).toBe(0);
    const jobs = run.stdout.split('get jobs\n')[1]?.split('\n\n')[0]?.split('\n') ?? [];
    expect(jobs).toHaveLength(9);
    for (const job of jobs) expect(job).toMatch(/ Complete$/);
    // Daily and weekly (on today's weekday) lines fire today; a second run the same day finds
    // them committed. Other lines fire only at month, quarter or year ends.
    expect(occupiedSlots(run.stdout)).toEqual(
      expect.arrayContaining(['binary daily', 'binary weekly', 'logical weekly']),
    );
    for (const line of ['binary/daily/', 'binary/weekly/', 'logical/weekly/']) {
      expect(run.stdout).toMatch(
        new RegExp(`pgbackup-demo/orders/${line}\\d+/\\S+/manifest\\.json`),
      );
    }
    expect(run.stdout).toContain('$ kubectl -n pgbackup-demo get backups\nNAME ');
  });
});
