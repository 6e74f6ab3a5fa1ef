import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { parseBackupPolicy } from '../../../src/api/index.js';
import { retentionPlanOf } from '../../../src/retention/index.js';

function specOf(fixture: string) {
  const doc: unknown = parse(
    readFileSync(new URL(`../../fixtures/plan/${fixture}`, import.meta.url), 'utf8'),
  );
  const parsed = parseBackupPolicy(doc);
  if (!parsed.ok) {
    throw new Error(JSON.stringify(parsed.issues));
  }
  return parsed.value.spec;
}

describe('retentionPlanOf', () => {
  it('takes every default line and keep of a policy that names none', () => {
    expect(retentionPlanOf(specOf('defaults.yaml'))).toEqual({
      schedule: {
        timeZone: 'UTC',
        time: { hour: 1, minute: 0 },
        weekday: 'sunday',
        latenessSeconds: 21_600,
      },
      binary: [
        { line: 'daily', keep: 7 },
        { line: 'weekly', keep: 4 },
        { line: 'monthly', keep: 3 },
        { line: 'quarterly', keep: 4 },
        { line: 'yearly', keep: 2 },
      ],
      logical: [
        { line: 'weekly', keep: 4 },
        { line: 'monthly', keep: 3 },
        { line: 'quarterly', keep: 4 },
        { line: 'yearly', keep: 2 },
      ],
    });
  });

  it('takes exactly the lines listed, and none of a disabled kind', () => {
    const plan = retentionPlanOf(specOf('berlin-dst.yaml'));
    expect(plan.schedule).toMatchObject({
      timeZone: 'Europe/Berlin',
      time: { hour: 2, minute: 30 },
      weekday: 'saturday',
    });
    expect(plan.binary).toEqual([
      { line: 'daily', keep: 3 },
      { line: 'weekly', keep: 2 },
      { line: 'monthly', keep: 2 },
    ]);
    expect(plan.logical).toEqual([]);
  });
});
