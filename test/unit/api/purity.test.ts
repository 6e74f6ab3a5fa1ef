import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../fixtures/policies/load-fixtures.js';

const API_DIRECTORY = `${REPO_ROOT}src/api`;

function sourceFiles(): string[] {
  return readdirSync(API_DIRECTORY, { recursive: true, encoding: 'utf8' }).filter((file) =>
    file.endsWith('.ts'),
  );
}

function importsOf(text: string): string[] {
  return [...text.matchAll(/from '([^']+)'/g)].map((match) => match[1] ?? '');
}

describe('src/api', () => {
  it('imports nothing but zod, yaml and itself', () => {
    const outside = sourceFiles().flatMap((file) =>
      importsOf(readFileSync(`${API_DIRECTORY}/${file}`, 'utf8'))
        .filter((target) => !['zod', 'yaml'].includes(target))
        .filter((target) => !target.startsWith('./') && !target.startsWith('../'))
        .map((target) => `${file} imports ${target}`),
    );
    expect(outside).toEqual([]);
  });

  it('stays inside src/api with relative imports', () => {
    const escaping = sourceFiles().flatMap((file) =>
      importsOf(readFileSync(`${API_DIRECTORY}/${file}`, 'utf8'))
        .filter((target) => target.startsWith('../'))
        .filter((target) => !file.includes('/') || target.startsWith('../../'))
        .map((target) => `${file} imports ${target}`),
    );
    expect(escaping).toEqual([]);
  });

  it('reads no clock and no environment', () => {
    const impure = sourceFiles().filter((file) =>
      /\b(Date\.now|new Date\(|process\.|performance\.now)/.test(
        readFileSync(`${API_DIRECTORY}/${file}`, 'utf8'),
      ),
    );
    expect(impure).toEqual([]);
  });
});
