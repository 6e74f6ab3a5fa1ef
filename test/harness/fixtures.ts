/** Reads fixture files from test/fixtures/. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { repoRoot } from './env/layout.js';

/** The text of a fixture file, by its path under test/fixtures/. */
export function fixtureText(path: string): string {
  return readFileSync(join(repoRoot, 'test', 'fixtures', path), 'utf8');
}

/** A YAML fixture, parsed. */
export function fixtureYaml<T = unknown>(path: string): T {
  return parse(fixtureText(path)) as T;
}
