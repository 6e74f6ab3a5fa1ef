import { describe, expect, it } from 'vitest';
import { parseBackupPolicy } from '../../../src/api/index.js';
import { loadFixture } from '../../fixtures/policies/load-fixtures.js';

const minimal = loadFixture('test/fixtures/policies/minimal.yaml');

function parseWithSpec(spec: Record<string, unknown>) {
  const doc = minimal.doc as { spec: Record<string, unknown> };
  return parseBackupPolicy({ ...doc, spec: { ...doc.spec, ...spec } });
}

function issuesOf(spec: Record<string, unknown>) {
  const result = parseWithSpec(spec);
  return result.ok ? [] : result.issues;
}

describe('spec.binary compression settings', () => {
  it.each([
    [{ compression: 'gzip', compressionLevel: 1 }],
    [{ compression: 'gzip', compressionLevel: 9 }],
    [{ compression: 'lz4', compressionLevel: 12 }],
    [{ compression: 'zstd', compressionLevel: -7 }],
    [{ compression: 'zstd', compressionLevel: 22, compressionWorkers: 64 }],
    [{ compressionLevel: 9, compressionWorkers: 2 }],
  ])('accepts %j', (binary) => {
    const result = parseWithSpec({ binary });
    expect(result.ok).toBe(true);
    expect(result.value?.spec.binary).toMatchObject(binary);
  });

  it('leave level and workers unset when omitted (the tool chooses)', () => {
    const result = parseWithSpec({});
    expect(result.value?.spec.binary.compressionLevel).toBeUndefined();
    expect(result.value?.spec.binary.compressionWorkers).toBeUndefined();
  });

  it.each([
    [{ compression: 'gzip', compressionLevel: 10 }, 'a gzip level is 1 (fastest) to 9 (smallest)'],
    [{ compression: 'gzip', compressionLevel: 0 }, 'a gzip level is 1 (fastest) to 9 (smallest)'],
    [{ compression: 'lz4', compressionLevel: 13 }, 'an lz4 level is 1 (fastest) to 12 (smallest)'],
    [{ compression: 'zstd', compressionLevel: 0 }, 'omit it for the default, 3'],
    [{ compressionLevel: 23 }, 'must be from -7 to 22 (zstd), 1 to 12 (lz4) or 1 to 9 (gzip)'],
    [{ compression: 'none', compressionLevel: 1 }, 'compression none takes no level'],
  ])('refuses %j naming compressionLevel: %s', (binary, message) => {
    const issues = issuesOf({ binary });
    expect(new Set(issues.map((issue) => issue.path))).toEqual(
      new Set(['spec.binary.compressionLevel']),
    );
    expect(issues.map((issue) => issue.message).join('\n')).toContain(message);
  });

  it.each([
    [{ compression: 'gzip', compressionWorkers: 2 }, 'only zstd compresses on several threads'],
    [{ compression: 'none', compressionWorkers: 2 }, 'only zstd compresses on several threads'],
    [{ compressionWorkers: 0 }, 'must be from 1 to 64 (zstd worker threads)'],
    [{ compressionWorkers: 65 }, 'must be from 1 to 64 (zstd worker threads)'],
    [{ compressionWorkers: 1.5 }, 'must be an integer'],
  ])('refuses %j naming compressionWorkers: %s', (binary, message) => {
    const issues = issuesOf({ binary });
    expect(issues.map((issue) => issue.path)).toEqual(['spec.binary.compressionWorkers']);
    expect(issues[0]?.message.toLowerCase()).toContain(message);
  });
});

describe('spec.logical compression settings', () => {
  it('defaults to gzip without a level (pg_dump chooses)', () => {
    const result = parseWithSpec({});
    expect(result.value?.spec.logical.compression).toBe('gzip');
    expect(result.value?.spec.logical.compressionLevel).toBeUndefined();
  });

  it.each([
    [{ compressionLevel: 9 }],
    [{ compression: 'zstd', compressionLevel: 19 }],
    [{ compression: 'none' }],
  ])('accepts %j', (logical) => {
    expect(parseWithSpec({ logical }).ok).toBe(true);
  });

  it.each([
    [{ compressionLevel: 10 }, 'a gzip level is 1 (fastest) to 9 (smallest)'],
    [{ compression: 'none', compressionLevel: 3 }, 'compression none takes no level'],
  ])('refuses %j naming compressionLevel: %s', (logical, message) => {
    const issues = issuesOf({ logical });
    expect(issues.map((issue) => issue.path)).toEqual(['spec.logical.compressionLevel']);
    expect(issues[0]?.message).toContain(message);
  });

  it('has no compressionWorkers (pg_dump compresses on one thread)', () => {
    const issues = issuesOf({ logical: { compressionWorkers: 2 } });
    expect(issues.map((issue) => issue.path)).toEqual(['spec.logical.compressionWorkers']);
  });
});
