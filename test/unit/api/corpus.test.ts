import { describe, expect, it } from 'vitest';
import { loadExamples, loadInvalidFixtures } from '../../fixtures/policies/load-fixtures.js';
import { parseManifest } from '../../fixtures/policies/parse-manifest.js';

const examples = loadExamples();
const invalid = loadInvalidFixtures();

describe('examples', () => {
  it('include a quickstart, one policy per preset and an on-demand backup', () => {
    const files = examples.map((example) => example.file);
    for (const name of ['quickstart', 'cloudnative-pg', 'zalando', 'crunchy', 'bitnami']) {
      expect(files).toContain(`examples/${name}.yaml`);
    }
    expect(examples.map((example) => example.kind)).toContain('Backup');
  });

  it.each(examples.map((example) => [example.file, example] as const))(
    '%s is accepted',
    (_file, example) => {
      const result = parseManifest(example);
      expect(result.issues).toBeUndefined();
      expect(result.ok).toBe(true);
    },
  );
});

describe('invalid corpus', () => {
  it('has at least 30 manifests, each naming the field it gets wrong', () => {
    expect(invalid.length).toBeGreaterThanOrEqual(30);
    for (const fixture of invalid) {
      expect(fixture.expectPath, `${fixture.file} has no "# expect:" line`).toBeDefined();
    }
  });

  it.each(invalid.map((fixture) => [fixture.file, fixture] as const))(
    '%s is rejected, naming exactly its field',
    (_file, fixture) => {
      const result = parseManifest(fixture);
      expect(result.ok).toBe(false);
      expect(result.issues?.map((issue) => issue.path)).toEqual([fixture.expectPath]);
    },
  );
});
