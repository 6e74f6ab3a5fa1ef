import { describe, expect, it } from 'vitest';
import { parseRestore } from '../../../src/api/index.js';
import { fixtureYaml } from '../../harness/fixtures.js';

interface InvalidCase {
  readonly message: string;
  readonly restore: { readonly metadata: { readonly name: string } };
}

describe('Restore schema', () => {
  it('accepts each way of choosing, with type binary by default', () => {
    const parsed = fixtureYaml<unknown[]>('restore-pvc/restores.yaml').map(parseRestore);
    expect(parsed.map((result) => result.ok)).toEqual([true, true, true]);
    const first = parsed[0];
    if (!first?.ok) throw new Error('the first fixture must parse');
    expect(first.value.spec).toEqual({
      policy: 'minimal',
      type: 'binary',
      pvc: { name: 'restored' },
    });
  });

  for (const invalid of fixtureYaml<InvalidCase[]>('restore-pvc/invalid-restores.yaml')) {
    it(`refuses ${invalid.restore.metadata.name}, naming the field`, () => {
      const result = parseRestore(invalid.restore);
      expect(result.ok).toBe(false);
      if (result.ok) return;
      expect(result.issues.map((issue) => `${issue.path}: ${issue.message}`)).toEqual([
        invalid.message,
      ]);
    });
  }
});
