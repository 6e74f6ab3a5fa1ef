/**
 * The layout's import rules (DESIGN.md §6): imports point inward, pure modules touch no
 * outside system, and runtime code never imports test code.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../../harness/env/layout.js';

const srcRoot = join(repoRoot, 'src');

/** Which of our modules each module may import (itself always allowed). */
const allowedImports: Readonly<Record<string, readonly string[]>> = {
  api: ['retention'],
  retention: ['api'],
  render: ['api', 'retention'],
  kube: ['api'],
  storage: ['api', 'encryption'],
  postgres: ['api'],
  /** Age encryption: streams and keys; storage, runner, wal, restore and cli use it. */
  encryption: ['api'],
  controller: ['api', 'retention', 'render', 'kube', 'storage', 'postgres'],
  runner: ['api', 'retention', 'render', 'kube', 'storage', 'postgres', 'encryption'],
  wal: ['api', 'retention', 'render', 'kube', 'storage', 'postgres', 'encryption'],
  restore: ['api', 'retention', 'storage', 'postgres', 'runner', 'wal', 'encryption'],
  cli: [
    'api',
    'retention',
    'render',
    'kube',
    'storage',
    'postgres',
    'controller',
    'runner',
    'wal',
    'restore',
    'encryption',
  ],
};

const pureModules = ['api', 'retention', 'render'];
/** Packages that reach an outside system or the process: adapters only. */
const impurePackages = /^(node:|pg$|@aws-sdk\/|@kubernetes\/|pino|prom-client)/;
/** Reading the clock or the environment is I/O too. */
const impureExpressions = [/\bDate\.now\(/, /new Date\(\)/, /\bprocess\.(env|argv|cwd)\b/];

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

function importsOf(text: string): string[] {
  const pattern = /(?:from\s+|import\s*\(\s*|import\s+)['"]([^'"]+)['"]/g;
  return [...text.matchAll(pattern)].flatMap((match) => (match[1] === undefined ? [] : [match[1]]));
}

function moduleOf(path: string): string {
  return relative(srcRoot, path).split('/')[0] ?? '';
}

/** What is wrong with one import of a file in module `from`, if anything. */
function importProblem(file: string, from: string, specifier: string): string | undefined {
  if (!specifier.startsWith('.')) {
    const impure = pureModules.includes(from) && impurePackages.test(specifier);
    return impure ? `pure module imports ${specifier}` : undefined;
  }
  const target = resolve(dirname(file), specifier);
  if (!target.startsWith(`${srcRoot}/`)) return `imports ${specifier} from outside src/`;
  const to = moduleOf(target);
  const allowed = to === from || (allowedImports[from] ?? []).includes(to);
  return allowed ? undefined : `${from} may not import ${to} (${specifier})`;
}

/** Every rule a source file breaks, as `path: problem` lines. */
function violationsIn(file: string, text: string): string[] {
  const from = moduleOf(file);
  const problems = importsOf(text).flatMap(
    (specifier) => importProblem(file, from, specifier) ?? [],
  );
  if (pureModules.includes(from)) {
    const clock = impureExpressions.filter((expression) => expression.test(text));
    problems.push(...clock.map((expression) => `pure module uses ${expression.source}`));
  }
  return problems.map((problem) => `${relative(repoRoot, file)}: ${problem}`);
}

describe('the layout of src/', () => {
  const files = sourceFiles(srcRoot);

  it('has only the modules of the design', () => {
    const modules = new Set(files.map(moduleOf));
    for (const module of modules) expect(Object.keys(allowedImports)).toContain(module);
  });

  it('points imports inward, keeps pure modules pure and never imports test code', () => {
    expect(files.flatMap((file) => violationsIn(file, readFileSync(file, 'utf8')))).toEqual([]);
  });

  it('reports each kind of violation (the checker itself works)', () => {
    const probe = join(srcRoot, 'retention', 'probe.ts');
    const text = [
      "import { runMain } from '../cli/main.js';",
      "import { readFileSync } from 'node:fs';",
      "import { requireEnv } from '../../test/harness/variables.js';",
      'const today = new Date();',
    ].join('\n');
    expect(violationsIn(probe, text)).toEqual([
      'src/retention/probe.ts: retention may not import cli (../cli/main.js)',
      'src/retention/probe.ts: pure module imports node:fs',
      'src/retention/probe.ts: imports ../../test/harness/variables.js from outside src/',
      'src/retention/probe.ts: pure module uses new Date\\(\\)',
    ]);
  });
});
