import { describe, expect, it } from 'vitest';
import {
  type BackupPolicy,
  BINARY_LINES,
  DEFAULT_KEEP,
  LOGICAL_LINES,
  parseBackupPolicy,
} from '../../../src/api/index.js';
import { loadFixture } from '../../fixtures/policies/load-fixtures.js';

const minimal = loadFixture('test/fixtures/policies/minimal.yaml');
const defaulted = loadFixture('test/fixtures/policies/minimal-defaulted.yaml');

function parseWithSpec(spec: Record<string, unknown>): BackupPolicy {
  const doc = minimal.doc as { spec: Record<string, unknown> };
  const result = parseBackupPolicy({ ...doc, spec: { ...doc.spec, ...spec } });
  if (!result.ok) {
    throw new Error(JSON.stringify(result.issues));
  }
  return result.value;
}

describe('defaults', () => {
  it('fill the minimal policy as minimal-defaulted.yaml says', () => {
    expect(parseWithSpec({}).spec).toEqual(defaulted.doc);
  });

  it('give every line its default keep when lines are omitted', () => {
    const { spec } = parseWithSpec({});
    expect(Object.keys(spec.binary.lines)).toEqual([...BINARY_LINES]);
    expect(Object.keys(spec.logical.lines)).toEqual([...LOGICAL_LINES]);
    expect(spec.binary.lines).toEqual(DEFAULT_KEEP);
  });

  it('take exactly the lines given when lines are given', () => {
    const { spec } = parseWithSpec({
      binary: { lines: { weekly: 10 } },
      logical: { lines: { yearly: 5 } },
    });
    expect(spec.binary.lines).toEqual({ weekly: 10 });
    expect(spec.logical.lines).toEqual({ yearly: 5 });
  });

  it('do not share one default object between parses', () => {
    const first = parseWithSpec({});
    first.spec.binary.lines.daily = 99;
    expect(parseWithSpec({}).spec.binary.lines.daily).toBe(7);
  });

  it('treat null fields as omitted, as the API server does', () => {
    const { spec } = parseWithSpec({ binary: { lines: null, local: null }, schedule: null });
    expect(spec.binary.lines).toEqual(DEFAULT_KEEP);
    expect(spec.binary.local).toBeUndefined();
    expect(spec.schedule).toEqual({ time: '01:00', weekday: 'sunday', lateness: '6h' });
  });

  it('accept keep at both ends of 1..100', () => {
    const { spec } = parseWithSpec({ binary: { lines: { daily: 1, yearly: 100 } } });
    expect(spec.binary.lines).toEqual({ daily: 1, yearly: 100 });
  });

  it('allow a policy with both kinds disabled and no storage', () => {
    const doc = minimal.doc as { spec: Record<string, unknown> };
    const result = parseBackupPolicy({
      ...doc,
      spec: { target: doc.spec.target, binary: { enabled: false }, logical: { enabled: false } },
    });
    expect(result.ok).toBe(true);
  });
});
