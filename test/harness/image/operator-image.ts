/**
 * The operator's images built from the repository's `Dockerfile` with podman, as a machine
 * without a container registry can: from the base made here (base-image.ts) instead of
 * `node:24-bookworm-slim`, with the PostgreSQL major Debian has instead of 13–17 from the
 * PostgreSQL project's repository, and otherwise the public build's stages, entrypoint, user
 * and read-only layout. Both targets: `runtime` (the controller, the runner, the CLI) and
 * `drill` (with the servers, for `pgbackup verify`), named as the controller expects (the
 * drill is the runtime's tag + `-drill`, src/render/drill-image.ts).
 *
 * Built once per content of the build's inputs (what .dockerignore lets through, the
 * Dockerfile, the base) and kept under `<cacheDir>/images/<hash>/` as docker archives that
 * `podman load` and containerd (`ctr -n k8s.io images import`) read, beside `images.json`
 * (references, image IDs, sizes, build time).
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, existsSync, openSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { cacheDir, repoRoot } from '../env/layout.js';
import { withLock } from '../env/lock.js';
import { HarnessError } from '../env/processes.js';
import { filesUnder } from '../executor/built-operator.js';
import { ensureBaseImage, hasImage } from './base-image.js';
import { podmanRuntimeFlags, requireImageTools, runContainerTool } from './podman.js';

/** The image name; tags say what was built (`dev-<hash>`, `dev-<hash>-drill`). */
export const OPERATOR_IMAGE_NAME = 'localhost/pgbackup-operator';

/** The Dockerfile's targets, in build order (the drill reuses the runtime's layers). */
export const IMAGE_TARGETS = ['runtime', 'drill'] as const;
export type ImageTarget = (typeof IMAGE_TARGETS)[number];

/** The PostgreSQL majors Debian bookworm has, which the local build carries. */
export const LOCAL_PG_MAJORS = [15] as const;

/**
 * The Dockerfile's build arguments of the local build (the base's name is added when it is
 * known): Debian's PostgreSQL packages, without the PostgreSQL project's repository.
 */
export const LOCAL_BUILD_ARGS = {
  PG_MAJORS: LOCAL_PG_MAJORS.join(' '),
  PG_APT_REPO: 'none',
} as const;

/** What the build reads, as .dockerignore lets it through (a test checks the two agree). */
export const BUILD_INPUTS = [
  'Dockerfile',
  '.dockerignore',
  'package.json',
  'package-lock.json',
  'tsconfig.json',
  'tsconfig.build.json',
  'scripts/bundle.ts',
  'src',
] as const;

/** Cached builds kept besides the current one. */
const KEEP_BUILDS = 2;

/** One built image. */
export interface BuiltImage {
  /** The name and tag to run it by, e.g. `localhost/pgbackup-operator:dev-0123456789ab`. */
  readonly reference: string;
  /** A docker archive of it, for `podman load -i` and `ctr -n k8s.io images import`. */
  readonly archive: string;
  /** Its ID: the digest of its configuration (`sha256:…`), the same in podman and containerd. */
  readonly imageId: string;
  /** Its uncompressed size, as `podman images` counts it. */
  readonly sizeBytes: number;
}

/** The images of one build. */
export interface OperatorImages {
  readonly runtime: BuiltImage;
  readonly drill: BuiltImage;
  /** How long the build took (0 when it was found in the cache). */
  readonly buildMs: number;
  /** Whether this call built them (false: found in the cache). */
  readonly built: boolean;
}

/**
 * Copies the build's inputs into a directory of their own, so the build and its hash see one
 * state of files that people go on editing; returns the hash of what was copied.
 */
async function stageContext(context: string, baseReference: string): Promise<string> {
  const hash = createHash('sha256');
  hash.update(baseReference).update('\0').update(JSON.stringify(LOCAL_BUILD_ARGS)).update('\0');
  for (const input of BUILD_INPUTS) {
    const source = join(repoRoot, input);
    await cp(source, join(context, input), { recursive: true });
  }
  for (const file of filesUnder(context).sort()) {
    hash
      .update(relative(context, file))
      .update('\0')
      .update(await readFile(file))
      .update('\0');
  }
  return hash.digest('hex').slice(0, 12);
}

function builtImageIn(dir: string): OperatorImages | undefined {
  const manifest = join(dir, 'images.json');
  if (!existsSync(manifest)) return undefined;
  const images = JSON.parse(readFileSync(manifest, 'utf8')) as OperatorImages;
  const complete = IMAGE_TARGETS.every((target) => existsSync(images[target].archive));
  return complete ? { ...images, buildMs: 0, built: false } : undefined;
}

/**
 * Runs a long command with its output (both streams) in `log`; on failure the error names the
 * log and quotes its end (tsc's errors go to stdout, the build's to stderr).
 */
function runLogged(
  command: string,
  args: readonly string[],
  log: string,
  timeoutMs: number,
): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    const out = openSync(log, 'a');
    const child = spawn(command, [...args], { stdio: ['ignore', out, out], timeout: timeoutMs });
    closeSync(out);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (code === 0) {
        resolvePromise();
        return;
      }
      const tail = readFileSync(log, 'utf8').trimEnd().split('\n').slice(-30).join('\n');
      reject(
        new HarnessError(
          `${command} ${args.slice(0, 1).join(' ')} failed (${signal ?? `exit ${code}`}); its output is in ${log}, ending:\n${tail}`,
        ),
      );
    });
  });
}

/** One `podman build --target`. */
interface TargetBuild {
  /** The staged build context, holding the Dockerfile. */
  readonly context: string;
  readonly target: ImageTarget;
  readonly reference: string;
  readonly buildArgs: Readonly<Record<string, string>>;
  /** Where the build's output goes. */
  readonly log: string;
}

async function buildTarget({
  context,
  target,
  reference,
  buildArgs,
  log,
}: TargetBuild): Promise<void> {
  // The machine's CA bundle reaches npm in the build stage as a build secret (see the
  // Dockerfile): the npm registry may be reached through a TLS-inspecting proxy.
  const ca = process.env.NODE_EXTRA_CA_CERTS ?? '/etc/ssl/certs/ca-certificates.crt';
  await runLogged(
    'podman',
    [
      'build',
      ...podmanRuntimeFlags(),
      // The build's downloads (Debian's packages, npm's) go where this machine's own apt and
      // npm go, from its own network namespace: no bridge, no NAT rules made for the build.
      '--network',
      'host',
      ...(existsSync(ca) ? ['--secret', `id=ca,src=${ca}`] : []),
      ...Object.entries(buildArgs).flatMap(([name, value]) => ['--build-arg', `${name}=${value}`]),
      '--target',
      target,
      '--tag',
      reference,
      '--file',
      join(context, 'Dockerfile'),
      context,
    ],
    log,
    60 * 60_000,
  );
}

async function describeImage(reference: string, archive: string): Promise<BuiltImage> {
  const [id = '', size = '0'] = (
    await runContainerTool('podman', [
      'image',
      'inspect',
      '--format',
      '{{.Id}} {{.Size}}',
      reference,
    ])
  )
    .trim()
    .split(' ');
  return { reference, archive, imageId: `sha256:${id}`, sizeBytes: Number(size) };
}

async function pruneOldBuilds(imagesDir: string, current: string): Promise<void> {
  const builds = readdirSync(imagesDir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && entry.name !== current && !entry.name.startsWith('.'))
    .map((entry) => ({
      dir: join(imagesDir, entry.name),
      mtimeMs: statSync(join(imagesDir, entry.name)).mtimeMs,
    }))
    .sort((a, b) => b.mtimeMs - a.mtimeMs);
  for (const build of builds.slice(KEEP_BUILDS)) {
    const images = builtImageIn(build.dir);
    if (images !== undefined) {
      const references = IMAGE_TARGETS.map((target) => images[target].reference);
      // Gone already, or in use by a container: either way not this build's concern.
      await runContainerTool('podman', ['rmi', ...references]).catch(() => undefined);
    }
    await rm(build.dir, { recursive: true, force: true });
  }
}

/**
 * Builds both images unless the cache has a build of these inputs; returns them. `log` hears
 * of slow steps (the base, the build) and of the build's time and the images' sizes.
 * Builds are serialised across processes (test files, the node's harness, `image:build`).
 */
export async function ensureOperatorImages(
  log: (message: string) => void = () => undefined,
): Promise<OperatorImages> {
  requireImageTools();
  const imagesDir = join(cacheDir(), 'images');
  await mkdir(imagesDir, { recursive: true });
  return withLock(imagesDir, async () => {
    const baseReference = await ensureBaseImage(log);
    const context = await mkdtemp(join(tmpdir(), 'pgbackup-image-context-'));
    try {
      const hash = await stageContext(context, baseReference);
      const dir = join(imagesDir, hash);
      const cached = builtImageIn(dir);
      if (cached !== undefined) return cached;
      const started = Date.now();
      const runtimeReference = `${OPERATOR_IMAGE_NAME}:dev-${hash}`;
      const references: Record<ImageTarget, string> = {
        runtime: runtimeReference,
        drill: `${runtimeReference}-drill`,
      };
      const buildArgs = { NODE_IMAGE: baseReference, ...LOCAL_BUILD_ARGS };
      // Written aside and renamed, so a killed build never leaves a half-written directory. A
      // failed build's directory stays (with its build.log) until the next build starts.
      for (const entry of readdirSync(imagesDir)) {
        if (entry.startsWith('.build-')) await rm(join(imagesDir, entry), { recursive: true });
      }
      const staging = join(imagesDir, `.build-${hash}-${process.pid}`);
      await mkdir(staging, { recursive: true });
      for (const target of IMAGE_TARGETS) {
        log(`building the ${target} image ${references[target]} from the Dockerfile`);
        await buildTarget({
          context,
          target,
          reference: references[target],
          buildArgs,
          log: join(staging, 'build.log'),
        });
        await runContainerTool('podman', [
          'save',
          '--format',
          'docker-archive',
          '--output',
          join(staging, `${target}.tar`),
          references[target],
        ]);
      }
      const buildMs = Date.now() - started;
      const [runtime, drill] = await Promise.all(
        IMAGE_TARGETS.map((target) =>
          describeImage(references[target], join(dir, `${target}.tar`)),
        ),
      );
      if (runtime === undefined || drill === undefined) throw new Error('unreachable');
      const images: OperatorImages = { runtime, drill, buildMs, built: true };
      await writeFile(join(staging, 'images.json'), `${JSON.stringify(images, null, 2)}\n`);
      await rm(dir, { recursive: true, force: true });
      await rename(staging, dir);
      const mebibytes = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MiB`;
      log(
        `built in ${(buildMs / 1000).toFixed(0)} s: runtime ${mebibytes(runtime.sizeBytes)}, drill ${mebibytes(drill.sizeBytes)}`,
      );
      await pruneOldBuilds(imagesDir, hash);
      return images;
    } finally {
      await rm(context, { recursive: true, force: true });
    }
  });
}

/** Makes sure podman's storage has the image (after a cache hit on a machine that lost it). */
export async function ensureImageInPodman(image: BuiltImage): Promise<void> {
  if (await hasImage(image.reference)) return;
  await runContainerTool('podman', ['load', '--quiet', '--input', image.archive], {
    timeoutMs: 600_000,
  });
}
