/**
 * The servers built from source with the Go toolchain (never downloaded as release
 * binaries). Each Go module under test/tools/ pins its versions in go.mod/go.sum; the
 * built binaries are cached outside the repository under a key made of those files and
 * the Go version, so only the first run on a machine pays for the build.
 */
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { cacheDir, toolModules } from './layout.js';
import { runTool } from './processes.js';

type ModuleName = keyof typeof toolModules;

/**
 * The go build output name of a tool package, where it differs from the binary we want (two
 * modules build a package named `server`).
 */
const renames: Readonly<Partial<Record<ModuleName, Readonly<Record<string, string>>>>> = {
  kube: { server: 'etcd' },
  toxiproxy: { server: 'toxiproxy-server' },
};

/**
 * Linker flags. Kubernetes binaries built outside its release tooling report version
 * v0.0.0-master, which clients refuse to parse; stamp the pinned release as its build does.
 */
function ldflags(name: ModuleName): string {
  const flags = ['-s', '-w'];
  if (name === 'kube' || name === 'kubeNode') {
    const { gitVersion, major, minor } = pinnedKubernetesVersion();
    for (const pkg of ['k8s.io/component-base/version', 'k8s.io/client-go/pkg/version']) {
      flags.push(`-X ${pkg}.gitVersion=${gitVersion}`, `-X ${pkg}.gitMajor=${major}`);
      flags.push(`-X ${pkg}.gitMinor=${minor}`, `-X ${pkg}.gitTreeState=clean`);
    }
  }
  if (name === 'helm') {
    // As helm's release build does: its version, and the Kubernetes version `helm lint` and
    // `helm template` assume (here the pinned test version, not helm's default v1.20).
    const goMod = readFileSync(join(toolModules.helm.dir, 'go.mod'), 'utf8');
    const version = /helm\.sh\/helm\/v3 (v\d+\.\d+\.\d+)/.exec(goMod);
    if (version === null)
      throw new Error('test/tools/helm/go.mod does not require helm.sh/helm/v3');
    flags.push(`-X helm.sh/helm/v3/internal/version.version=${version[1]}`);
    const { major, minor } = pinnedKubernetesVersion();
    for (const pkg of ['helm.sh/helm/v3/pkg/lint/rules', 'helm.sh/helm/v3/pkg/chartutil']) {
      flags.push(`-X ${pkg}.k8sVersionMajor=${major}`, `-X ${pkg}.k8sVersionMinor=${minor}`);
    }
  }
  return flags.join(' ');
}

/** The Kubernetes release test/tools/kube pins, e.g. v1.37.2. */
export function pinnedKubernetesVersion(): { gitVersion: string; major: string; minor: string } {
  const goMod = readFileSync(join(toolModules.kube.dir, 'go.mod'), 'utf8');
  const version = /k8s\.io\/kubernetes (v(\d+)\.(\d+)\.\d+)/.exec(goMod);
  if (version === null)
    throw new Error('test/tools/kube/go.mod does not require k8s.io/kubernetes');
  const [, gitVersion = '', major = '', minor = ''] = version;
  return { gitVersion, major, minor };
}

async function moduleKey(name: ModuleName): Promise<string> {
  const { dir } = toolModules[name];
  const goVersion = await runTool('go', ['env', 'GOVERSION']);
  const hash = createHash('sha256');
  hash.update(readFileSync(join(dir, 'go.mod')));
  hash.update(readFileSync(join(dir, 'go.sum')));
  hash.update(goVersion.trim());
  hash.update(ldflags(name));
  hash.update(packagesOf(name).join(' '));
  return `${name}-${hash.digest('hex').slice(0, 12)}`;
}

/** The packages a module builds: its go.mod's `tool` lines, unless it names its own. */
function packagesOf(name: ModuleName): readonly string[] {
  const spec = toolModules[name];
  return 'packages' in spec ? spec.packages : [];
}

function hasAll(dir: string, binaries: readonly string[]): boolean {
  return binaries.every((binary) => existsSync(join(dir, binary)));
}

/**
 * Returns the directory holding the module's binaries, building them first when the cache
 * has no build for the pinned versions. `onBuild` is told before a (slow) build starts.
 */
export async function ensureToolModule(
  name: ModuleName,
  onBuild: (message: string) => void = () => undefined,
): Promise<string> {
  const target = join(cacheDir(), 'bin', await moduleKey(name));
  const { dir, binaries } = toolModules[name];
  if (hasAll(target, binaries)) return target;
  onBuild(`building ${binaries.join(', ')} from ${dir} (first run on this machine only)`);
  const scratch = `${target}.tmp-${process.pid}`;
  rmSync(scratch, { recursive: true, force: true });
  mkdirSync(scratch, { recursive: true });
  const packages = packagesOf(name);
  // Named packages build in a copy of the module, so -mod=mod adds what they need there.
  const moduleDir = packages.length === 0 ? dir : join(scratch, 'module');
  if (moduleDir !== dir) {
    mkdirSync(moduleDir);
    for (const file of ['go.mod', 'go.sum']) copyFileSync(join(dir, file), join(moduleDir, file));
  }
  await runTool(
    'go',
    [
      'build',
      '-trimpath',
      `-ldflags=${ldflags(name)}`,
      '-o',
      `${scratch}/`,
      ...(packages.length === 0 ? ['tool'] : packages),
    ],
    {
      cwd: moduleDir,
      env: { GOFLAGS: '-mod=mod', ...goEnv() },
      timeoutMs: 60 * 60_000,
    },
  );
  if (moduleDir !== dir) rmSync(moduleDir, { recursive: true, force: true });
  for (const [from, to] of Object.entries(renames[name] ?? {})) {
    if (existsSync(join(scratch, from))) renameSync(join(scratch, from), join(scratch, to));
  }
  if (hasAll(target, binaries)) {
    // Another process finished the same build first; keep its copy.
    rmSync(scratch, { recursive: true, force: true });
  } else {
    rmSync(target, { recursive: true, force: true });
    renameSync(scratch, target);
  }
  return target;
}

/** Go's own caches, passed through so builds reuse the module and build caches. */
export function goEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const key of ['GOPATH', 'GOCACHE', 'GOMODCACHE', 'GOPROXY', 'GOROOT', 'GOTOOLCHAIN']) {
    const value = process.env[key];
    if (value !== undefined) env[key] = value;
  }
  return env;
}

/** Paths of every binary the environment runs. */
export interface ToolPaths {
  readonly kubeApiserver: string;
  readonly kubeControllerManager: string;
  readonly kubectl: string;
  readonly etcd: string;
  readonly minio: string;
}

/** Paths of the tools only tests use: they check the chart and its alerts. */
export interface TestToolPaths {
  readonly kubeconform: string;
  readonly controllerGen: string;
  readonly promtool: string;
  /** The fault-injection proxy of test/faults/. */
  readonly toxiproxyServer: string;
}

/**
 * Builds (or finds in the cache) every server the environment needs, and helm, so that the
 * demo and the chart tests (which find it with `helmPath` in test/harness/chart.ts) never
 * wait for its build.
 */
export async function ensureEnvironmentTools(
  onBuild?: (message: string) => void,
): Promise<ToolPaths> {
  // All builds at once: on a fresh machine their downloads and links overlap.
  const [kube, minio] = await Promise.all([
    ensureToolModule('kube', onBuild),
    ensureToolModule('minio', onBuild),
    ensureToolModule('helm', onBuild),
  ]);
  return {
    kubeApiserver: join(kube, 'kube-apiserver'),
    kubeControllerManager: join(kube, 'kube-controller-manager'),
    kubectl: join(kube, 'kubectl'),
    etcd: join(kube, 'etcd'),
    minio: join(minio, 'minio'),
  };
}

/**
 * Builds (or finds) the tools only tests use, once before the test files run, so that
 * parallel test files do not each build them (and the demo never waits for them).
 */
export async function ensureTestTools(onBuild?: (message: string) => void): Promise<TestToolPaths> {
  const [kubeconform, monitoringCrds, promtool, toxiproxy] = await Promise.all([
    ensureToolModule('kubeconform', onBuild),
    ensureToolModule('monitoringCrds', onBuild),
    ensureToolModule('promtool', onBuild),
    ensureToolModule('toxiproxy', onBuild),
  ]);
  return {
    kubeconform: join(kubeconform, 'kubeconform'),
    controllerGen: join(monitoringCrds, 'controller-gen'),
    promtool: join(promtool, 'promtool'),
    toxiproxyServer: join(toxiproxy, 'toxiproxy-server'),
  };
}

/**
 * Builds (or finds) every tool: `npm run tools:build`, which CI runs before the tests. It
 * prints these paths, and test/e2e/kind/run.sh takes helm's from them.
 */
export async function ensureTools(
  onBuild?: (message: string) => void,
): Promise<ToolPaths & TestToolPaths & { readonly helm: string }> {
  const [environment, tests] = await Promise.all([
    ensureEnvironmentTools(onBuild),
    ensureTestTools(onBuild),
  ]);
  // Built by ensureEnvironmentTools just now: this only finds it in the cache.
  const helm = join(await ensureToolModule('helm'), 'helm');
  return { ...environment, ...tests, helm };
}
