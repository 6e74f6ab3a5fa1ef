/**
 * How the harness runs podman and buildah here: as root, with runc (crun refuses this kind
 * of machine's hybrid cgroups), and never asking for more open files than the machine's hard
 * limit allows (podman asks for 1048576 by default, which such a machine refuses).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { HarnessError, runTool, type ToolOptions } from '../env/processes.js';

/** The OCI runtime every container and build step runs with. */
export const CONTAINER_RUNTIME = 'runc';

/** The hard limit named `name` in a /proc/<pid>/limits file, or undefined for unlimited. */
function hardLimit(limitsFile: string, name: string): number | undefined {
  const line = readFileSync(limitsFile, 'utf8')
    .split('\n')
    .find((candidate) => candidate.startsWith(name));
  const hard = line?.slice(name.length).trim().split(/\s+/)[1];
  const value = Number(hard);
  return hard === undefined || !Number.isFinite(value) ? undefined : value;
}

/**
 * The highest limit a container may ask for: podman asks for 1048576 open files and processes
 * by default, and runc fails ("error setting rlimits") above the hard limit of the conmon that
 * starts it: this process's for open files; for processes at most `cap` (measured here: conmon
 * had 32768 while this shell and init had 96362).
 */
function containerLimit(name: string, cap: number): number {
  const limits = ['/proc/self/limits', '/proc/1/limits']
    .map((file) => hardLimit(file, name))
    .filter((value) => value !== undefined);
  return Math.min(cap, ...limits);
}

/** The flags `podman run` and `podman build` take on this machine. */
export function podmanRuntimeFlags(): string[] {
  const files = containerLimit('Max open files', 1_048_576);
  const processes = containerLimit('Max processes', 32_768);
  return [
    '--runtime',
    CONTAINER_RUNTIME,
    '--ulimit',
    `nofile=${files}:${files}`,
    '--ulimit',
    `nproc=${processes}:${processes}`,
  ];
}

/** The programs an image build needs, and the Debian package of each. */
const BUILD_PROGRAMS: Readonly<Record<string, string>> = {
  podman: 'podman',
  buildah: 'buildah',
  runc: 'runc',
  mmdebstrap: 'mmdebstrap',
};

/** Whether PATH (or root's usual sbin directories, where runc lies) has the program. */
function isInstalled(program: string): boolean {
  const dirs = [...(process.env.PATH ?? '').split(':'), '/usr/sbin', '/sbin'];
  return dirs.some((dir) => dir !== '' && existsSync(join(dir, program)));
}

/**
 * Fails, naming what to install, unless this process is root and has the programs a build
 * needs: .ci/run installs them from .ci/debian-packages.txt.
 */
export function requireImageTools(): void {
  if (process.getuid?.() !== 0) {
    throw new HarnessError(
      'building the image needs root here (podman and buildah as root, with runc); run as root',
    );
  }
  const missing = Object.entries(BUILD_PROGRAMS)
    .filter(([program]) => !isInstalled(program))
    .map(([, debianPackage]) => debianPackage);
  if (missing.length > 0) {
    throw new HarnessError(
      `building the image needs ${missing.join(', ')}: apt-get install -y --no-install-recommends ${missing.join(' ')} (listed in .ci/debian-packages.txt, which .ci/run installs)`,
    );
  }
}

/** The variables of podman's and buildah's configuration (containers-storage.conf(5), …). */
const CONTAINERS_VARIABLES = [
  'CONTAINERS_CONF',
  'CONTAINERS_STORAGE_CONF',
  'CONTAINERS_REGISTRIES_CONF',
] as const;

/**
 * Runs podman or buildah as runTool runs a tool, passing their configuration's variables
 * through (runTool gives a tool a minimal environment), so that one storage, for example a
 * scratch one for measuring a build from nothing, serves every step.
 */
export function runContainerTool(
  command: 'podman' | 'buildah',
  args: readonly string[],
  options: ToolOptions = {},
): Promise<string> {
  const env: Record<string, string> = {};
  for (const name of CONTAINERS_VARIABLES) {
    const value = process.env[name];
    if (value !== undefined) env[name] = value;
  }
  return runTool(command, args, { ...options, env: { ...env, ...options.env } });
}
