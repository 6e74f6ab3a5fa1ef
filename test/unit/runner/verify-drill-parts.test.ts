import { describe, expect, it } from 'vitest';
import { parseBackupPolicy } from '../../../src/api/index.js';
import { newestBackupOf } from '../../../src/runner/backup-choice.js';
import { countAmcheckLine, describeCounts } from '../../../src/runner/verify-amcheck.js';
import { verificationStatusOf } from '../../../src/runner/verify-in-cluster.js';
import { extractArguments, majorOf } from '../../../src/runner/verify-restore.js';
import { scheduledDrillSkip } from '../../../src/runner/verify-schedule.js';
import type { BackupManifest, CatalogEntry } from '../../../src/storage/index.js';
import { fixtureYaml } from '../../harness/fixtures.js';

function entry(key: string, committedAt: string): CatalogEntry {
  const manifest = { committedAt, server: { versionNumber: 150_018 } } as BackupManifest;
  return { key, manifest };
}

function specWithSchedule(schedule: 'never' | 'daily' | 'weekly' | 'monthly') {
  const policy = fixtureYaml<{ spec: Record<string, unknown> }>('binary/daily.yaml');
  policy.spec.verify = { schedule };
  const parsed = parseBackupPolicy(policy);
  if (!parsed.ok) throw new Error('the fixture does not parse');
  return parsed.value.spec;
}

describe('the backup a drill restores', () => {
  it('is the newest committed one, whatever its line, on-demand included', () => {
    const daily = entry('p/binary/daily/1/20260302T010000Z-a/', '2026-03-02T01:05:00Z');
    const onDemand = entry('p/binary/on-demand/20260302T090000Z-b/', '2026-03-02T09:02:00Z');
    const weekly = entry('p/binary/weekly/0/20260301T010000Z-c/', '2026-03-01T01:04:00Z');

    expect(newestBackupOf([daily, onDemand, weekly])).toBe(onDemand);
    expect(newestBackupOf([weekly, daily])).toBe(daily);
  });

  it('is none when nothing is committed', () => {
    expect(newestBackupOf([])).toBeUndefined();
  });

  it('is the later key when two were committed at the same instant', () => {
    const first = entry('p/binary/daily/1/20260302T010000Z-a/', '2026-03-02T01:05:00Z');
    const second = entry('p/binary/weekly/0/20260302T010000Z-b/', '2026-03-02T01:05:00Z');

    expect(newestBackupOf([second, first])).toBe(second);
  });
});

describe('extracting a backup', () => {
  it("decompresses with the program of the manifest's compression, through GNU tar", () => {
    expect(extractArguments('zstd', '/w/base.tar.zst', '/w/data')).toEqual([
      '--extract',
      '--file=/w/base.tar.zst',
      '--directory=/w/data',
      '--use-compress-program=zstd',
    ]);
    expect(extractArguments('none', '/w/base.tar', '/w/data')).toEqual([
      '--extract',
      '--file=/w/base.tar',
      '--directory=/w/data',
    ]);
  });

  it('fails clearly on a compression it cannot read', () => {
    expect(() => extractArguments('brotli', '/w/base.tar.br', '/w/data')).toThrow(
      'the manifest names compression "brotli", which this version cannot read',
    );
  });

  it("uses the tools of the backup's major version", () => {
    expect(majorOf(entry('k/', '2026-03-02T01:05:00Z').manifest)).toBe(15);
  });
});

describe("pg_amcheck's verbose output", () => {
  it('counts the databases, tables and indexes it checked', () => {
    const counts = { databases: 0, tables: 0, indexes: 0 };
    for (const line of [
      'pg_amcheck: including database "postgres"',
      'pg_amcheck: including database "orders"',
      'pg_amcheck: checking heap table "orders"."public"."orders"',
      'pg_amcheck: checking btree index "orders"."public"."orders_pkey"',
      'pg_amcheck: checking btree index "orders"."pg_catalog"."pg_class_oid_index"',
      'pg_amcheck: something else',
    ]) {
      countAmcheckLine(counts, line);
    }

    expect(counts).toEqual({ databases: 2, tables: 1, indexes: 2 });
    expect(describeCounts(counts)).toBe('1 table and 2 indexes in 2 databases');
  });
});

describe('a scheduled drill', () => {
  it('runs the monthly drill on the last day of the month only', () => {
    const spec = specWithSchedule('monthly');

    expect(scheduledDrillSkip(spec, Date.parse('2026-03-28T01:00:00Z'))).toContain(
      'is not a fire day of the monthly line',
    );
    expect(scheduledDrillSkip(spec, Date.parse('2026-03-31T01:00:00Z'))).toBeUndefined();
  });

  it('runs the daily drill every day', () => {
    expect(
      scheduledDrillSkip(specWithSchedule('daily'), Date.parse('2026-03-28T01:00:00Z')),
    ).toBeUndefined();
  });

  it('does nothing when the policy asks for no drill', () => {
    expect(
      scheduledDrillSkip(specWithSchedule('never'), Date.parse('2026-03-28T01:00:00Z')),
    ).toContain('spec.verify.schedule is never');
  });
});

describe("the drill's result in a Backup", () => {
  it('says Passed or Failed, when, and a message within the field limit', () => {
    const outcome = {
      key: 'k/',
      manifest: entry('k/', '2026-03-02T01:05:00Z').manifest,
      result: 'Failed' as const,
      message: 'x'.repeat(5000),
      finishedAtMs: Date.parse('2026-03-02T02:00:00Z'),
    };

    expect(verificationStatusOf(outcome)).toEqual({
      verification: {
        result: 'Failed',
        time: '2026-03-02T02:00:00.000Z',
        message: 'x'.repeat(4096),
      },
    });
  });

  it('records how long the restore took, in seconds to a tenth, when it was done', () => {
    const outcome = {
      key: 'k/',
      manifest: entry('k/', '2026-03-02T01:05:00Z').manifest,
      result: 'Passed' as const,
      message: 'restores',
      finishedAtMs: Date.parse('2026-03-02T02:00:00Z'),
      restoreMs: 12_345,
    };

    expect(verificationStatusOf(outcome).verification).toMatchObject({ restoreSeconds: 12.3 });
  });
});
