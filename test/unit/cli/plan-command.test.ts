import { relative } from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runMain } from '../../../src/cli/main.js';

const FIXTURES = '../../fixtures/plan';

/** A path to a plan fixture as a person would type it from the repository root. */
function fixturePath(name: string): string {
  return relative(process.cwd(), fileURLToPath(new URL(`${FIXTURES}/${name}`, import.meta.url)));
}

class Capture extends Writable {
  text = '';

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
}

async function plan(...argv: string[]) {
  const stdout = new Capture();
  const stderr = new Capture();
  const status = await runMain(['plan', ...argv], { stdout, stderr });
  return { status, stdout: stdout.text, stderr: stderr.text };
}

describe('pgbackup plan', () => {
  it('prints, as JSON, the runs of 2026 and the backups the defaults retain at its end', async () => {
    const result = await plan(
      '-f',
      fixturePath('defaults.yaml'),
      '--from',
      '2026-01-01',
      '--to',
      '2026-12-31',
      '--output',
      'json',
    );
    expect(result).toMatchObject({ status: 0, stderr: '' });
    const parsed = JSON.parse(result.stdout) as { runs: unknown[]; retained: unknown[] };
    expect(parsed.retained).toContainEqual({
      date: '2026-12-25',
      type: 'binary',
      line: 'daily',
      slot: 1,
      label: 'fri',
    });
    await expect(result.stdout).toMatchFileSnapshot(`${FIXTURES}/defaults-2026.json`);
  });

  it('prints, for people, a calendar of 2026 and the slot table at its end', async () => {
    const result = await plan(
      '-f',
      fixturePath('defaults.yaml'),
      '--from',
      '2026-01-01',
      '--to',
      '2026-12-31',
    );
    expect(result).toMatchObject({ status: 0, stderr: '' });
    await expect(result.stdout).toMatchFileSnapshot(`${FIXTURES}/defaults-2026.txt`);
  });

  it('says when daylight saving time moves or doubles the time of day', async () => {
    const result = await plan(
      '-f',
      fixturePath('berlin-dst.yaml'),
      '--from',
      '2026-03-25',
      '--to',
      '2026-10-31',
    );
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('2026-03-29: 02:30 does not exist in Europe/Berlin');
    expect(result.stdout).toContain('2026-10-25: 02:30 happens twice in Europe/Berlin');
    await expect(result.stdout).toMatchFileSnapshot(`${FIXTURES}/berlin-dst.txt`);
  });

  it('finds the policy among the other objects of a manifest', async () => {
    const result = await plan(
      '-f',
      fixturePath('with-secret.yaml'),
      '--from',
      '2024-01-01',
      '--to',
      '2026-12-31',
      '-o',
      'json',
    );
    expect(result.status).toBe(0);
    const { retained } = JSON.parse(result.stdout) as {
      retained: { type: string; line: string; date: string }[];
    };
    const yearlies = retained.filter(({ type, line }) => type === 'logical' && line === 'yearly');
    expect(yearlies.map(({ date }) => date)).toEqual(['2024-12-31', '2025-12-31', '2026-12-31']);
  });

  it("rejects an invalid policy with exit status 2 and the API's messages, naming each field", async () => {
    const result = await plan(
      '-f',
      fixturePath('invalid-time-and-keep.yaml'),
      '--from',
      '2026-01-01',
      '--to',
      '2026-01-31',
    );
    expect(result).toMatchObject({ status: 2, stdout: '' });
    expect(result.stderr).toContain('spec.schedule.time');
    expect(result.stderr).toContain('spec.binary.lines.daily');
    await expect(result.stderr).toMatchFileSnapshot(`${FIXTURES}/invalid-time-and-keep.stderr.txt`);
  });

  it.each([
    [['--from', '2026-01-01', '--to', '2026-01-31'], '-f POLICY.yaml is required'],
    [['-f', 'p.yaml', '--to', '2026-01-31'], '--from is required'],
    [
      ['-f', 'p.yaml', '--from', '2026-02-30', '--to', '2026-03-31'],
      '--from "2026-02-30" is not a date',
    ],
    [['-f', 'p.yaml', '--from', '2026-02-01', '--to', '2026-01-31'], 'is after --to'],
    [
      ['-f', 'p.yaml', '--from', '2026-01-01', '--to', '2026-01-31', '-o', 'yaml'],
      '--output "yaml" is not supported',
    ],
    [
      ['-f', 'p.yaml', '--from', '2026-01-01', '--to', '2026-01-31', '--bogus'],
      "Unknown option '--bogus'",
    ],
    [
      ['-f', 'missing.yaml', '--from', '2026-01-01', '--to', '2026-01-31'],
      'cannot read the policy file',
    ],
  ])('exits with status 2 on wrong arguments: %j', async (argv, message) => {
    const result = await plan(...argv);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain(message);
  });

  it('prints its usage on --help', async () => {
    const result = await plan('--help');
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/^usage: pgbackup plan -f POLICY.yaml/);
  });
});
