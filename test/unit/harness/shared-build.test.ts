/**
 * shareWithOtherUsers: a checkout in a directory only its owner may enter (mode 700, as
 * root's home) still gives other users (postgres, the image's 65532) a build and a node they
 * can run. A stand-in build (a bundle that loads an external package, which loads another)
 * lies in a mode-700 directory; as root, the copy is run as `nobody`.
 */
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  cpSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isReachableByOthers, shareWithOtherUsers } from '../../harness/shared-build.js';

const NOBODY = 65534;
const isRoot = process.getuid?.() === 0;
const scratch = mkdtempSync(join(tmpdir(), 'pgbackup-shared-build-'));
chmodSync(scratch, 0o755);
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function write(path: string, text: string, mode = 0o644): void {
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, text, { mode });
}

/** A checkout in `root`: a build whose bundle imports `external`, which requires `inner`. */
function makeCheckout(root: string): { buildDir: string; nodeModulesDir: string } {
  const buildDir = join(root, '.cache', 'operator-dist', 'abc123');
  write(join(buildDir, 'package.json'), '{"name":"pgbackup-operator","version":"0.1.0"}');
  write(
    join(buildDir, 'dist', 'bin', 'pgbackup.mjs'),
    "const { default: greeting } = await import('external');\nconsole.log(greeting);\n",
  );
  const nodeModulesDir = join(root, 'node_modules');
  write(
    join(nodeModulesDir, 'external', 'package.json'),
    '{"name":"external","version":"1.0.0","main":"index.js","dependencies":{"inner":"1","@types/inner":"1"}}',
  );
  write(join(nodeModulesDir, 'external', 'index.js'), "module.exports = require('inner');\n");
  write(join(nodeModulesDir, 'inner', 'package.json'), '{"name":"inner","version":"1.0.0"}');
  write(join(nodeModulesDir, 'inner', 'index.js'), "module.exports = 'hello from inner';\n");
  write(join(nodeModulesDir, 'unrelated', 'package.json'), '{"name":"unrelated","version":"1"}');
  return { buildDir, nodeModulesDir };
}

describe('a build for other users', () => {
  it('from a mode-700 checkout is a copy they can reach, with the packages its bundle loads', async () => {
    const privateRoot = join(scratch, 'private');
    const checkout = makeCheckout(join(privateRoot, 'repo'));
    chmodSync(privateRoot, 0o700);
    expect(
      isReachableByOthers(join(checkout.buildDir, 'dist', 'bin', 'pgbackup.mjs'), 'read'),
    ).toBe(false);
    const sharedRoot = join(scratch, 'shared');
    const runtime = await shareWithOtherUsers({
      ...checkout,
      packages: ['external', 'not-installed'],
      node: process.execPath,
      sharedRoot,
    });
    expect(runtime.appDir.startsWith(`${sharedRoot}/`)).toBe(true);
    expect(isReachableByOthers(runtime.bundle, 'read')).toBe(true);
    expect(isReachableByOthers(join(runtime.appDir, 'package.json'), 'read')).toBe(true);
    for (const name of ['external/index.js', 'inner/index.js']) {
      expect(isReachableByOthers(join(runtime.appDir, 'node_modules', name), 'read'), name).toBe(
        true,
      );
    }
    // Only what the bundle loads is copied: not other packages, not type declarations.
    expect(() =>
      readFileSync(join(runtime.appDir, 'node_modules', 'unrelated', 'package.json')),
    ).toThrow();
    // The same build asked for again is the same copy.
    await expect(
      shareWithOtherUsers({
        ...checkout,
        packages: ['external'],
        node: process.execPath,
        sharedRoot,
      }),
    ).resolves.toEqual(runtime);
    if (isRoot) {
      const run = spawnSync(runtime.node, [runtime.bundle], {
        uid: NOBODY,
        gid: NOBODY,
        cwd: runtime.appDir,
        env: { PATH: '/usr/bin:/bin' },
        encoding: 'utf8',
      });
      expect(run.stderr).toBe('');
      expect(run.stdout).toBe('hello from inner\n');
    }
  });

  it('keeps the newest copies of builds only', async () => {
    const privateRoot = join(scratch, 'private-many');
    mkdirSync(privateRoot);
    const sharedRoot = join(scratch, 'shared-many');
    const appDirs: string[] = [];
    for (const build of ['b1', 'b2', 'b3', 'b4', 'b5']) {
      const checkout = makeCheckout(join(privateRoot, 'repo'));
      const buildDir = join(checkout.buildDir, '..', build);
      cpSync(checkout.buildDir, buildDir, { recursive: true });
      chmodSync(privateRoot, 0o700);
      const runtime = await shareWithOtherUsers({
        ...checkout,
        buildDir,
        packages: ['external'],
        node: process.execPath,
        sharedRoot,
      });
      appDirs.push(runtime.appDir);
      chmodSync(privateRoot, 0o755);
    }
    const left = readdirSync(sharedRoot).filter((name) => name.startsWith('app-'));
    expect(left.sort()).toEqual(['app-b2', 'app-b3', 'app-b4', 'app-b5']);
    expect(appDirs.at(-1)).toBe(join(sharedRoot, 'app-b5'));
  });

  it('copies a node others cannot execute, and leaves one they can where it is', async () => {
    const privateRoot = join(scratch, 'private-node');
    const node = join(privateRoot, 'venv', 'bin', 'node');
    write(node, '#!/bin/sh\necho stand-in node\n', 0o755);
    chmodSync(privateRoot, 0o700);
    const checkout = makeCheckout(join(scratch, 'open-repo'));
    const sharedRoot = join(scratch, 'shared-node');
    const runtime = await shareWithOtherUsers({ ...checkout, packages: [], node, sharedRoot });
    expect(runtime.node.startsWith(`${sharedRoot}/`)).toBe(true);
    expect(isReachableByOthers(runtime.node, 'execute')).toBe(true);
    expect(readFileSync(runtime.node, 'utf8')).toBe(readFileSync(node, 'utf8'));
    // A checkout others can read is used in place.
    expect(runtime.appDir).toBe(checkout.buildDir);
    const openNode = await shareWithOtherUsers({
      ...checkout,
      packages: [],
      node: process.execPath,
      sharedRoot,
    });
    expect(openNode.node).toBe(process.execPath);
  });

  it('refuses a shared directory another user could write into', async () => {
    const sharedRoot = join(scratch, 'world-writable');
    mkdirSync(sharedRoot);
    chmodSync(sharedRoot, 0o777);
    const checkout = makeCheckout(join(scratch, 'repo-3'));
    await expect(
      shareWithOtherUsers({ ...checkout, packages: [], node: process.execPath, sharedRoot }),
    ).rejects.toThrow(/only it can write .*PGBACKUP_SHARED_DIR/);
  });
});
