/**
 * bench/controller: 1,000 BackupPolicies in 50 namespaces (the three-CronJob policy of
 * test/fixtures/controller/orders-policy.yaml, so 3,000 CronJobs). Measures, side by side in
 * one run:
 *   - controller: from starting `pgbackup controller` (the policies already exist) until every
 *     CronJob exists and every policy's status is observed (observedGeneration = generation,
 *     Ready=True), and the controller's peak RSS;
 *   - kubectl: `kubectl apply` of the same 3,000 CronJobs (rendered by src/render, owner
 *     references removed) into 50 other namespaces.
 * Prints both times, their ratio (target ≤ 2) and the peak RSS (target < 250 MB).
 *
 *   npx tsx bench/controller.ts
 *   BENCH_POLICIES=200 BENCH_NAMESPACES=10 npx tsx bench/controller.ts
 *   BENCH_WORKERS=16 npx tsx bench/controller.ts   # the controller's --workers (default 4)
 *
 * Uses the environment of `npm run env:up` (started if it is not running) and deletes its
 * namespaces afterwards. The controller runs as the admin (RBAC is the tests' business).
 */
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { parseBackupPolicy } from '../src/api/index.js';
import { KubeClient, type KubeObject, loadKubeConnection } from '../src/kube/index.js';
import { DEFAULT_RUN_SETTINGS, renderCronJobs } from '../src/render/index.js';
import { installCrds } from '../test/controlplane/api/install-crds.js';
import { upEnvironment } from '../test/harness/env/environment.js';
import { repoRoot } from '../test/harness/env/layout.js';
import { fixtureYaml } from '../test/harness/fixtures.js';
import { runKubectl } from '../test/harness/kube.js';
import { peakRssKiB } from './runner-bench.js';

const POLICIES = Number(process.env.BENCH_POLICIES ?? 1000);
const NAMESPACES = Number(process.env.BENCH_NAMESPACES ?? 50);
const RUN = Date.now().toString(36);
// The controller as the image runs it: compiled JavaScript, not TypeScript through tsx.
const BUILD_DIR = join(repoRoot, '.cache', 'bench-controller-dist');
const CONTROLLER = join(BUILD_DIR, 'cli', 'main.js');

async function kubectlOrThrow(args: string[], input?: string): Promise<void> {
  const result = await runKubectl(args, input === undefined ? {} : { input });
  if (result.code !== 0) throw new Error(`kubectl ${args.slice(0, 3).join(' ')}: ${result.stderr}`);
}

function namespacesOf(kind: string): string[] {
  return Array.from({ length: NAMESPACES }, (_, index) => `bench-${kind}-${RUN}-${index}`);
}

function policyDocuments(namespaces: readonly string[]): KubeObject[] {
  const fixture = fixtureYaml<KubeObject>('controller/orders-policy.yaml');
  const secrets = fixtureYaml<KubeObject[]>('controller/secrets.yaml');
  return namespaces.flatMap((namespace, namespaceIndex) => [
    ...secrets.map((secret) => ({ ...secret, metadata: { ...secret.metadata, namespace } })),
    ...Array.from({ length: POLICIES / NAMESPACES }, (_, index) => ({
      ...fixture,
      metadata: { name: `orders-${namespaceIndex}-${index}`, namespace },
    })),
  ]);
}

async function createNamespaces(namespaces: readonly string[]): Promise<void> {
  const docs = namespaces.map((name) => ({
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name },
  }));
  await kubectlOrThrow(['apply', '-f', '-'], docs.map((doc) => stringify(doc)).join('---\n'));
}

async function applyFile(docs: readonly unknown[]): Promise<number> {
  const dir = await mkdtemp(join(tmpdir(), 'bench-controller-'));
  const file = join(dir, 'objects.yaml');
  await writeFile(file, docs.map((doc) => stringify(doc)).join('---\n'));
  const started = performance.now();
  await kubectlOrThrow(['apply', '-f', file]);
  const seconds = (performance.now() - started) / 1000;
  await rm(dir, { recursive: true });
  return seconds;
}

/** The CronJobs the controller would make, without owners, for kubectl to create directly. */
function plainCronJobs(policies: readonly KubeObject[]): unknown[] {
  return policies
    .filter((doc) => doc.kind === 'BackupPolicy')
    .flatMap((doc) => {
      const parsed = parseBackupPolicy(doc);
      if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues));
      return renderCronJobs({ policy: parsed.value, uid: 'none', settings: DEFAULT_RUN_SETTINGS });
    })
    .map(({ manifest }) => {
      const { ownerReferences: _owners, ...metadata } = manifest.metadata;
      return { ...manifest, metadata };
    });
}

/** How many policies have a status observed by the controller (generation and Ready=True). */
async function observedPolicies(
  client: KubeClient,
  namespaces: ReadonlySet<string>,
): Promise<number> {
  const policies = await listIn(client, '/apis/pgbackup.dev/v1alpha1/backuppolicies', namespaces);
  return policies.filter((policy) => {
    const status = policy.status as
      | { observedGeneration?: number; conditions?: { type: string; status: string }[] }
      | undefined;
    const ready = status?.conditions?.find((condition) => condition.type === 'Ready');
    return status?.observedGeneration === policy.metadata.generation && ready?.status === 'True';
  }).length;
}

async function listIn(client: KubeClient, path: string, namespaces: ReadonlySet<string>) {
  const list = await client.request<{ items: KubeObject[] }>({
    verb: 'list',
    path,
    what: `list ${path}`,
  });
  return list.items.filter((item) => namespaces.has(item.metadata.namespace ?? ''));
}

async function measureController(kubeconfig: string, namespaces: string[]) {
  const client = await KubeClient.create(await loadKubeConnection(process.env, kubeconfig));
  const started = performance.now();
  const child = spawn(
    process.execPath,
    [
      CONTROLLER,
      'controller',
      ...(process.env.BENCH_WORKERS !== undefined ? ['--workers', process.env.BENCH_WORKERS] : []),
      '--kubeconfig',
      kubeconfig,
      '--metrics-address',
      '127.0.0.1:0',
      '--lease-namespace',
      namespaces[0] ?? 'default',
    ],
    { cwd: repoRoot, stdio: ['ignore', 'ignore', 'inherit'] },
  );
  let peakKiB = 0;
  const sampler = setInterval(() => {
    peakKiB = Math.max(peakKiB, peakRssKiB(child.pid ?? 0));
  }, 200);
  const wanted = new Set(namespaces);
  // Only policies are polled (listing 3,000 CronJobs twice a second would load the API server
  // the controller is measured against): a status is written after the policy's CronJobs.
  while ((await observedPolicies(client, wanted)) < POLICIES) {
    if (performance.now() - started > 900_000) throw new Error('gave up after 15 minutes');
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  const seconds = (performance.now() - started) / 1000;
  const cronJobs = (await listIn(client, '/apis/batch/v1/cronjobs', wanted)).length;
  if (cronJobs !== POLICIES * 3) throw new Error(`${cronJobs} CronJobs exist, not ${POLICIES * 3}`);
  peakKiB = Math.max(peakKiB, peakRssKiB(child.pid ?? 0));
  clearInterval(sampler);
  child.kill('SIGTERM');
  await new Promise((resolve) => child.once('exit', resolve));
  client.close();
  return { seconds, peakMiB: peakKiB / 1024 };
}

async function main(): Promise<void> {
  // Type errors elsewhere in the tree do not stop tsc from emitting; a missing entry point does.
  spawnSync(join(repoRoot, 'node_modules', '.bin', 'tsc'), [
    '-p',
    join(repoRoot, 'tsconfig.build.json'),
    '--outDir',
    BUILD_DIR,
  ]);
  readFileSync(CONTROLLER);
  const variables = await upEnvironment((message) => process.stderr.write(`env: ${message}\n`));
  Object.assign(process.env, variables);
  await installCrds();
  const kubeconfig = variables.KUBECONFIG ?? '';
  const controllerNamespaces = namespacesOf('ctl');
  const kubectlNamespaces = namespacesOf('kubectl');
  try {
    await createNamespaces([...controllerNamespaces, ...kubectlNamespaces]);
    const policies = policyDocuments(controllerNamespaces);
    const kubectlSeconds = await applyFile(plainCronJobs(policyDocuments(kubectlNamespaces)));
    await applyFile(policies);
    const controller = await measureController(kubeconfig, controllerNamespaces);
    console.log(`policies: ${POLICIES} in ${NAMESPACES} namespaces, CronJobs: ${POLICIES * 3}`);
    console.log(`kubectl apply of the CronJobs:             ${kubectlSeconds.toFixed(1)} s`);
    console.log(`controller, every CronJob and status:      ${controller.seconds.toFixed(1)} s`);
    console.log(
      `ratio (target <= 2):                        ${(controller.seconds / kubectlSeconds).toFixed(2)}`,
    );
    console.log(`controller peak RSS (target < 250 MB):      ${controller.peakMiB.toFixed(0)} MiB`);
  } finally {
    const names = [...controllerNamespaces, ...kubectlNamespaces];
    await runKubectl(['delete', 'namespace', '--wait=false', ...names]);
  }
}

await main();
