/**
 * The operator as the image runs it: `npm run build`'s output (tsc, then the one-file bundle
 * of scripts/bundle.ts), not TypeScript through tsx. Built once per content of what the build
 * reads (src/, the tsconfigs, package-lock.json, the bundle script) into
 * `.cache/operator-dist/<hash>/`, laid out as the image's /app (`package.json`,
 * `dist/cli/main.js`, `dist/bin/pgbackup.mjs`), so parallel test files, the demo and the
 * benches share one build and a changed source builds anew. The bundle's externals resolve
 * from the repository's node_modules, as the image's do from /app/node_modules.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { copyFile, mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { BUNDLE_PATH, bundleOperator } from '../../../scripts/bundle.js';
import { repoRoot } from '../env/layout.js';
import { withLock } from '../env/lock.js';

const BUILDS_DIR = join(repoRoot, '.cache', 'operator-dist');
/** Builds kept besides the current one (another process may still be running an older one). */
const KEEP_BUILDS = 3;

/** One build of the operator. */
export interface OperatorBuild {
  /** The build, laid out as the image's /app (`package.json`, `dist/`). */
  readonly dir: string;
  /** The bundle the image runs (`dist/bin/pgbackup.mjs`). */
  readonly bundle: string;
  /** tsc's entrypoint (`dist/cli/main.js`), which loads every module from node_modules. */
  readonly compiled: string;
}

/** Every file below `dir` (recursively), unsorted. */
export function filesUnder(dir: string): string[] {
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
    ...['tsconfig.json', 'tsconfig.build.json', 'package.json', 'package-lock.json'].map((name) =>
      join(repoRoot, name),
    ),
    join(repoRoot, 'scripts', 'bundle.ts'),
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

function buildIn(dir: string): OperatorBuild {
  return {
    dir,
    bundle: join(dir, 'dist', BUNDLE_PATH),
    compiled: join(dir, 'dist', 'cli', 'main.js'),
  };
}

/** Builds the operator (tsc, then the bundle) unless this source is built already. */
export async function ensureOperatorBuild(): Promise<OperatorBuild> {
  const hash = sourceHash();
  const dir = join(BUILDS_DIR, hash);
  const built = buildIn(dir);
  if (existsSync(built.bundle)) return built;
  await mkdir(BUILDS_DIR, { recursive: true });
  // One build at a time: test files, the demo and benches starting together wait for the first.
  return withLock(BUILDS_DIR, async () => {
    if (existsSync(built.bundle)) return built;
    // Built aside and renamed, so a killed build never leaves a half-written directory.
    const staging = join(BUILDS_DIR, `.build-${hash}-${process.pid}`);
    await rm(staging, { recursive: true, force: true });
    const dist = join(staging, 'dist');
    const output = await compile(dist);
    if (!existsSync(buildIn(staging).compiled)) {
      throw new Error(`building the operator (tsc -p tsconfig.build.json) failed:\n${output}`);
    }
    await writeFile(join(staging, 'tsc-output.txt'), output);
    // The CLI reads its version from the package.json two directories above it.
    await copyFile(join(repoRoot, 'package.json'), join(staging, 'package.json'));
    await bundleOperator(dist);
    await rename(staging, dir);
    await pruneOldBuilds(hash);
    return built;
  });
}

/**
 * Builds the operator unless this source is built already; returns the path of the bundle
 * the image runs (`dist/bin/pgbackup.mjs`).
 */
export async function ensureBuiltOperator(): Promise<string> {
  return (await ensureOperatorBuild()).bundle;
}
