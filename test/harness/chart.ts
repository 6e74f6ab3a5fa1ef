/**
 * The Helm chart as users get it: rendered by the real `helm` (built from test/tools/helm),
 * for the pinned Kubernetes version, so what the tests apply is what `helm install` applies.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { repoRoot } from './env/layout.js';
import { runTool } from './env/processes.js';
import { ensureToolModule, pinnedKubernetesVersion } from './env/tools.js';

/** The chart's directory. */
export const CHART_DIR = join(repoRoot, 'charts', 'pgbackup-operator');

/** What a template sees of the release. */
export interface Release {
  readonly name: string;
  readonly namespace: string;
}

/** Values given to the chart on top of its values.yaml, as `helm -f` would read them. */
export type ChartValues = Readonly<Record<string, unknown>>;

/** Values that switch on every optional part of the chart. */
export const EVERY_OPTION: ChartValues = {
  replicas: 2,
  serviceMonitor: { enabled: true },
  prometheusRule: { enabled: true },
};

/** The value sets the chart must lint, render and validate with, for `it.each`. */
export const CHART_VALUE_CASES: readonly (readonly [string, ChartValues])[] = [
  ['default values', {}],
  ['ServiceMonitor, PrometheusRule and two replicas', EVERY_OPTION],
];

/** The helm binary, built on first use. */
export async function helmPath(): Promise<string> {
  return join(await ensureToolModule('helm'), 'helm');
}

/**
 * Runs helm with the values written to a file (never on the command line, so any value
 * round-trips) and returns its standard output; a non-zero exit throws with its stderr.
 */
export async function runHelm(args: readonly string[], values: ChartValues = {}): Promise<string> {
  const helm = await helmPath();
  const scratch = mkdtempSync(join(tmpdir(), 'pgbackup-helm-'));
  try {
    const valuesFile = join(scratch, 'values.json');
    writeFileSync(valuesFile, JSON.stringify(values));
    // Helm's own cache and config stay in the scratch directory, away from the user's.
    const env = {
      HELM_CACHE_HOME: join(scratch, 'cache'),
      HELM_CONFIG_HOME: join(scratch, 'config'),
      HELM_DATA_HOME: join(scratch, 'data'),
      // Only commands that talk to a cluster (install --dry-run) read it.
      ...(process.env.KUBECONFIG !== undefined ? { KUBECONFIG: process.env.KUBECONFIG } : {}),
    };
    return await runTool(helm, [...args, '--values', valuesFile], { env, timeoutMs: 120_000 });
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

/** The options of `helm template` that every render uses. */
function templateArgs(release: Release, extra: readonly string[]): string[] {
  const { gitVersion } = pinnedKubernetesVersion();
  return [
    'template',
    release.name,
    CHART_DIR,
    '--namespace',
    release.namespace,
    '--kube-version',
    gitVersion,
    ...extra,
  ];
}

/**
 * The text `helm template` renders for a release: one template (by its file name under
 * templates/) or, without one, the whole chart; `includeCrds` adds the chart's crds/.
 */
export function renderChartTemplate(
  template: string | undefined,
  release: Release,
  options: { values?: ChartValues; includeCrds?: boolean } = {},
): Promise<string> {
  const extra = [
    ...(template !== undefined ? ['--show-only', `templates/${template}`] : []),
    ...(options.includeCrds === true ? ['--include-crds'] : []),
  ];
  return runHelm(templateArgs(release, extra), options.values);
}

/** The objects of {@link renderChartTemplate}, in the order helm prints them. */
export async function renderChartObjects(
  template: string | undefined,
  release: Release,
  options: { values?: ChartValues; includeCrds?: boolean } = {},
): Promise<Record<string, unknown>[]> {
  const text = await renderChartTemplate(template, release, options);
  return parseAllDocuments(text)
    .map((document) => document.toJS() as Record<string, unknown> | null)
    .filter((object): object is Record<string, unknown> => object !== null);
}
