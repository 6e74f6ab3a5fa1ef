/**
 * The operator as the image runs it: compiled JavaScript (`npm run build`'s output), not
 * TypeScript through tsx. Built once per content of `src/` into `.cache/operator-dist/<hash>`,
 * so parallel test files and the demo share one build and a changed source builds anew.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { repoRoot } from '../env/layout.js';
import { withLock } from '../env/lock.js';

const BUILDS_DIR = join(repoRoot, '.cache', 'operator-dist');
/** Builds kept besides the current one (another process may still be running an older one). */
const KEEP_BUILDS = 3;

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    return entry.isDirectory() ? filesUnder(path) : [path];
  });
}

/** A hash of everything the build reads from the repository. */
function sourceHash(): string {
  const hash = createHash('sha256');
  const files = [
    ...filesUnder(join(repoRoot, 'src')).sort(),
    join(repoRoot, 'tsconfig.json'),
    join(repoRoot, 'tsconfig.build.json'),
  ];
  for (const file of files) {
    hash.update(relative(repoRoot, file)).update('\0').update(readFileSync(file)).update('\0');
  }
  return hash.digest('hex').slice(0, 16);
}

function compile(outDir: string): Promise<string> {
  return new Promise((resolvePromise) => {
    execFile(
      join(repoRoot, 'node_modules', '.bin', 'tsc'),
      ['-p', join(repoRoot, 'tsconfig.build.json'), '--outDir', outDir],
      { cwd: repoRoot, maxBuffer: 16 * 1024 * 1024 },
      // tsc emits even with type errors; those fail `npm test`'s typecheck, not the runs here.
      (_error, stdout, stderr) => resolvePromise(`${stdout}${stderr}`),
    );
  });
}

async function pruneOldBuilds(current: string): Promise<void> {
  const builds = readdirSync(BUILDS_DIR)
    .filter((name) => name !== current && !name.startsWith('.'))
    .map((name) => ({ name, mtimeMs: statSync(join(BUILDS_DIR, name)).mtimeMs }))
    .sort((a, b) => b.mtimeMs - a.mtimeMs);
  for (const build of builds.slice(KEEP_BUILDS)) {
    await rm(join(BUILDS_DIR, build.name), { recursive: true, force: true });
  }
}

/**
 * Compiles the operator unless this source is built already; returns the path of its
 * entrypoint (`cli/main.js`), which runs with the repository's node_modules.
 */
export async function ensureBuiltOperator(): Promise<string> {
  const hash = sourceHash();
  const dir = join(BUILDS_DIR, hash);
  const main = join(dir, 'cli', 'main.js');
  if (existsSync(main)) return main;
  await mkdir(BUILDS_DIR, { recursive: true });
  // One build at a time: test files and the demo starting together wait for the first.
  return withLock(BUILDS_DIR, async () => {
    if (existsSync(main)) return main;
    // Built aside and renamed, so a killed build never leaves a half-written directory.
    const staging = join(BUILDS_DIR, `.build-${hash}-${process.pid}`);
    await rm(staging, { recursive: true, force: true });
    const output = await compile(staging);
    if (!existsSync(join(staging, 'cli', 'main.js'))) {
      throw new Error(`building the operator (tsc -p tsconfig.build.json) failed:\n${output}`);
    }
    await writeFile(join(staging, 'tsc-output.txt'), output);
    await rename(staging, dir);
    await pruneOldBuilds(hash);
    return main;
  });
}
