/**
 * The operator as other users run it in the tests (`postgres` for restores and drills, the
 * image's user 65532): a `node` they can execute and a build they can read. A checkout in a
 * directory only its owner may enter (as root's home is, mode 700) gives them neither: the
 * build under `.cache/operator-dist` and the repository's node_modules cannot be reached, and
 * neither can a node installed there. Then the build, the packages its bundle loads at run
 * time and, if need be, node itself are copied into a directory others can reach
 * (`$PGBACKUP_SHARED_DIR`, default `<tmpdir>/pgbackup-operator-shared-<uid>`), once per build.
 * A checkout others can read is used where it is.
 */
import { createHash } from 'node:crypto';
import { constants, existsSync, lstatSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { chmod, copyFile, cp, mkdir, readdir, rename, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { BUNDLE_EXTERNALS, BUNDLE_PATH } from '../../scripts/bundle.js';
import { repoRoot } from './env/layout.js';
import { withLock } from './env/lock.js';
import { ensureOperatorBuild } from './executor/built-operator.js';

/** What another user runs: `node` and the bundle, and a directory to run them in. */
export interface SharedRuntime {
  /** A node others can execute. */
  readonly node: string;
  /** The build laid out as the image's /app (`package.json`, `dist/`, `node_modules`). */
  readonly appDir: string;
  /** `dist/bin/pgbackup.mjs` under `appDir`. */
  readonly bundle: string;
}

/** What {@link shareWithOtherUsers} makes reachable. */
export interface ShareInput {
  /** A build laid out as the image's /app: `package.json` and `dist/`. */
  readonly buildDir: string;
  /** The node_modules the bundle's externals resolve from. */
  readonly nodeModulesDir: string;
  /** The packages the bundle loads from node_modules (its externals); missing ones are skipped. */
  readonly packages: readonly string[];
  readonly node: string;
  /** Where copies go: created if need be, owned by this user and writable by no one else. */
  readonly sharedRoot: string;
}

/**
 * Whether a user other than the owner (and not in its group) can read `path` (`read`) or run
 * it (`execute`): every directory on the way lets others pass, and the file lets them read or
 * execute it. Symbolic links are followed.
 */
export function isReachableByOthers(path: string, access: 'read' | 'execute'): boolean {
  let real: string;
  try {
    real = realpathSync(path);
  } catch {
    return false;
  }
  for (let dir = dirname(real); ; dir = dirname(dir)) {
    if ((statSync(dir).mode & constants.S_IXOTH) === 0) return false;
    if (dir === dirname(dir)) break;
  }
  const wanted = access === 'read' ? constants.S_IROTH : constants.S_IXOTH;
  return (statSync(real).mode & wanted) !== 0;
}

/** The shared root: created mode 755, refused when another user could write into it. */
async function ensureSharedRoot(root: string): Promise<void> {
  await mkdir(root, { recursive: true, mode: 0o755 });
  const stat = lstatSync(root);
  const uid = process.getuid?.() ?? stat.uid;
  const writableByOthers = (stat.mode & (constants.S_IWGRP | constants.S_IWOTH)) !== 0;
  if (!stat.isDirectory() || stat.uid !== uid || writableByOthers) {
    throw new Error(
      `${root} is not a directory of this user that only it can write (the tests would run what another user put there): remove it, or set PGBACKUP_SHARED_DIR to another directory`,
    );
  }
  if (!isReachableByOthers(root, 'execute')) {
    throw new Error(
      `${root} cannot be entered by other users (a directory on the way is closed to them), so postgres and the image's user could not run the operator from it: set PGBACKUP_SHARED_DIR to a directory they can reach, such as /var/tmp/pgbackup-operator-shared`,
    );
  }
}

/** Makes a copied tree readable by everyone: directories 755, files 644 (755 if executable). */
async function openTree(path: string): Promise<void> {
  const stat = lstatSync(path);
  if (stat.isSymbolicLink()) return;
  if (!stat.isDirectory()) {
    await chmod(path, (stat.mode & constants.S_IXUSR) !== 0 ? 0o755 : 0o644);
    return;
  }
  await chmod(path, 0o755);
  for (const entry of await readdir(path)) await openTree(join(path, entry));
}

/**
 * Makes `to` with `fill` (given a staging directory to fill) and opens it to everyone; the
 * staging directory is renamed at the end, so a killed copy leaves nothing half-made.
 */
async function makeOpen(to: string, fill: (staging: string) => Promise<void>): Promise<void> {
  const staging = `${to}.tmp-${process.pid}`;
  await rm(staging, { recursive: true, force: true });
  await mkdir(staging);
  await fill(staging);
  await openTree(staging);
  await rename(staging, to);
}

/** The package directories `names` need, with their dependencies, as Node resolves them. */
function packageClosure(nodeModulesDir: string, names: readonly string[]): string[] {
  const found = new Set<string>();
  const queue = names.map((name) => ({ from: dirname(nodeModulesDir), name }));
  for (let next = queue.pop(); next !== undefined; next = queue.pop()) {
    let dir: string | undefined;
    // Node looks in node_modules beside the requiring package, then in each parent's.
    for (let at = next.from; dir === undefined; at = dirname(at)) {
      const candidate = join(at, 'node_modules', next.name);
      if (existsSync(join(candidate, 'package.json'))) dir = candidate;
      else if (at === dirname(nodeModulesDir) || at === dirname(at)) break;
    }
    if (dir === undefined || found.has(dir)) continue;
    found.add(dir);
    const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
    const dependencies = { ...manifest.dependencies, ...manifest.optionalDependencies };
    // Type declarations are never loaded at run time.
    for (const name of Object.keys(dependencies).filter((dep) => !dep.startsWith('@types/'))) {
      queue.push({ from: dir, name });
    }
  }
  return [...found].sort();
}

function shortHash(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 16);
}

/** A node others can execute: `node` itself, or a copy of it in the shared root. */
async function shareNode(node: string, root: string): Promise<string> {
  if (isReachableByOthers(node, 'execute')) return node;
  const real = realpathSync(node);
  const { size, mtimeMs } = statSync(real);
  const dir = join(root, `node-${shortHash(`${real}:${size}:${mtimeMs}`)}`);
  const copy = join(dir, 'node');
  if (!existsSync(copy)) {
    await makeOpen(dir, (staging) => copyFile(real, join(staging, 'node')));
  }
  return copy;
}

/** The node_modules the bundle needs, in the shared root; keyed by their names and versions. */
async function shareNodeModules(input: ShareInput): Promise<string> {
  const packages = packageClosure(input.nodeModulesDir, input.packages);
  const versions = packages.map((dir) => {
    const { name, version } = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
    return `${dir.slice(input.nodeModulesDir.length)}=${name}@${version}`;
  });
  const dir = join(input.sharedRoot, `deps-${shortHash(versions.join('\n'))}`);
  if (!existsSync(dir)) {
    await makeOpen(dir, async (staging) => {
      for (const packageDir of packages) {
        const relativeDir = packageDir.slice(input.nodeModulesDir.length);
        await cp(packageDir, join(staging, 'node_modules', relativeDir), {
          recursive: true,
          dereference: true,
        });
      }
    });
  }
  return join(dir, 'node_modules');
}

/** Copies of builds kept besides the current one (another test may still be running one). */
const KEEP_APP_COPIES = 3;

/** Removes the oldest copies of builds, beyond {@link KEEP_APP_COPIES}, never `current`. */
async function pruneAppCopies(root: string, current: string): Promise<void> {
  const copies = (await readdir(root))
    .filter((name) => name.startsWith('app-') && !name.includes('.tmp-') && name !== current)
    .map((name) => ({ name, mtimeMs: statSync(join(root, name)).mtimeMs }))
    .sort((a, b) => b.mtimeMs - a.mtimeMs);
  for (const copy of copies.slice(KEEP_APP_COPIES)) {
    await rm(join(root, copy.name), { recursive: true, force: true });
  }
}

/** The build where others can read it: in place, or copied beside its node_modules. */
async function shareApp(input: ShareInput): Promise<string> {
  const bundle = join(input.buildDir, 'dist', BUNDLE_PATH);
  const readable =
    isReachableByOthers(bundle, 'read') &&
    input.packages.every(
      (name) =>
        !existsSync(join(input.nodeModulesDir, name)) ||
        isReachableByOthers(join(input.nodeModulesDir, name, 'package.json'), 'read'),
    );
  if (readable) return input.buildDir;
  const nodeModules = await shareNodeModules(input);
  const dir = join(input.sharedRoot, `app-${basename(input.buildDir)}`);
  if (!existsSync(dir)) {
    await makeOpen(dir, async (staging) => {
      await cp(input.buildDir, staging, { recursive: true, dereference: true });
      await symlink(nodeModules, join(staging, 'node_modules'));
    });
    await pruneAppCopies(input.sharedRoot, basename(dir));
  }
  return dir;
}

/**
 * Makes a build and a node reachable by other users, copying what they cannot reach.
 *
 * @throws Error when the shared root is not safe or not reachable, saying what to do
 */
export async function shareWithOtherUsers(input: ShareInput): Promise<SharedRuntime> {
  await ensureSharedRoot(input.sharedRoot);
  return withLock(input.sharedRoot, async () => {
    const node = await shareNode(input.node, input.sharedRoot);
    const appDir = await shareApp(input);
    return { node, appDir, bundle: join(appDir, 'dist', BUNDLE_PATH) };
  });
}

/** Where copies for other users go. */
export function sharedRoot(): string {
  return (
    process.env.PGBACKUP_SHARED_DIR ??
    join(tmpdir(), `pgbackup-operator-shared-${process.getuid?.() ?? 'user'}`)
  );
}

/**
 * The operator's build (see `ensureOperatorBuild`) and a node, both reachable by other users.
 */
export async function buildForOtherUsers(): Promise<SharedRuntime> {
  const build = await ensureOperatorBuild();
  return shareWithOtherUsers({
    buildDir: build.dir,
    nodeModulesDir: join(repoRoot, 'node_modules'),
    packages: BUNDLE_EXTERNALS,
    node: process.execPath,
    sharedRoot: sharedRoot(),
  });
}
