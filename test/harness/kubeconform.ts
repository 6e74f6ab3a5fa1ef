/**
 * kubeconform (built from test/tools/kubeconform) with JSON schemas made here, since its
 * default schemas are downloaded from GitHub. The built-in kinds' schemas come from the
 * running kube-apiserver's OpenAPI (the pinned Kubernetes version), our kinds' from
 * crds/*.yaml, the Prometheus Operator's (ServiceMonitor, PrometheusRule, ...) from the
 * CRDs controller-gen generates from its Go types pinned in test/tools/monitoring-crds;
 * all are written in kubeconform's layout
 * (`v<version>-standalone-strict/<kind>-<group>-<version>.json`) as openapi2jsonschema
 * does: standalone (every reference resolved inside the file) and strict (no field the
 * schema does not name).
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { renderCrdFiles } from '../../src/api/index.js';
import { kubectl } from './cluster-objects.js';
import { cacheDir, repoRoot, toolModules } from './env/layout.js';
import { runTool } from './env/processes.js';
import { ensureToolModule, goEnv, pinnedKubernetesVersion } from './env/tools.js';

/** A JSON schema, as plain data. */
type Schema = Record<string, unknown>;

/** Bump when the conversion changes, so cached schemas are made again. */
const SCHEMA_FORMAT = 1;

/** The pinned Kubernetes version without its "v", as kubeconform's -kubernetes-version wants. */
export function kubeconformKubernetesVersion(): string {
  return pinnedKubernetesVersion().gitVersion.replace(/^v/, '');
}

/** kubeconform's file name of a kind's schema: `deployment-apps-v1.json`, `service-v1.json`. */
export function schemaFileName(gvk: { group: string; version: string; kind: string }): string {
  const group = gvk.group === '' ? '' : `-${gvk.group.split('.')[0]}`;
  return `${gvk.kind}${group}-${gvk.version}.json`.toLowerCase();
}

function isObject(value: unknown): value is Schema {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The strict form of a schema, recursively: objects that name their properties reject
 * others; int-or-string fields accept both forms; `nullable` fields accept null.
 */
function strictOf(schema: unknown, refPrefix: string): unknown {
  if (Array.isArray(schema)) return schema.map((item) => strictOf(item, refPrefix));
  if (!isObject(schema)) return schema;
  const out: Schema = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key === '$ref' && typeof value === 'string') {
      out.$ref = value.replace('#/definitions/', refPrefix);
    } else if (key === 'properties' && isObject(value)) {
      out.properties = Object.fromEntries(
        Object.entries(value).map(([name, property]) => [name, strictOf(property, refPrefix)]),
      );
    } else if (!key.startsWith('x-kubernetes-') && key !== 'description') {
      out[key] = strictOf(value, refPrefix);
    }
  }
  return tightened(schema, out);
}

/** The keywords {@link strictOf} adds or changes on one (already converted) schema. */
function tightened(original: Schema, out: Schema): Schema {
  if (original.format === 'int-or-string' || original['x-kubernetes-int-or-string'] === true) {
    const { type: _type, format: _format, ...rest } = out;
    return { ...rest, anyOf: [{ type: 'string' }, { type: 'integer' }] };
  }
  const open = original['x-kubernetes-preserve-unknown-fields'] === true;
  const { nullable: _nullable, ...result } = out;
  if (isObject(result.properties) && result.additionalProperties === undefined && !open) {
    result.additionalProperties = false;
  }
  if (original.nullable === true && typeof result.type === 'string') {
    result.type = [result.type, 'null'];
  }
  return result;
}

/** Definitions a schema reaches through `$ref`, transitively. */
function reachable(definitions: Record<string, Schema>, root: Schema): Set<string> {
  const seen = new Set<string>();
  const visit = (value: unknown): void => {
    if (Array.isArray(value)) {
      for (const item of value) visit(item);
      return;
    }
    if (!isObject(value)) return;
    const ref = value.$ref;
    if (typeof ref === 'string' && ref.startsWith('#/definitions/')) {
      const name = ref.slice('#/definitions/'.length);
      if (!seen.has(name)) {
        seen.add(name);
        visit(definitions[name]);
      }
    }
    for (const child of Object.values(value)) visit(child);
  };
  visit(root);
  return seen;
}

/** Types the OpenAPI document writes as strings that manifests also write as numbers. */
const NUMBER_OR_STRING = new Set(['io.k8s.apimachinery.pkg.api.resource.Quantity']);

/**
 * One standalone strict schema per built-in kind of an OpenAPI v2 document, by file name.
 * Definitions of custom resources (not `io.k8s.*`) are left out: ours come from crds/.
 */
export function schemasOfOpenApiV2(document: {
  definitions: Record<string, Schema>;
}): Map<string, Schema> {
  const definitions = Object.fromEntries(
    Object.entries(document.definitions).map(([name, schema]) => [
      name,
      NUMBER_OR_STRING.has(name)
        ? { anyOf: [{ type: 'string' }, { type: 'number' }] }
        : (strictOf(schema, '#/definitions/') as Schema),
    ]),
  );
  const files = new Map<string, Schema>();
  for (const [name, schema] of Object.entries(document.definitions)) {
    if (!name.startsWith('io.k8s.')) continue;
    const gvks = schema['x-kubernetes-group-version-kind'];
    if (!Array.isArray(gvks)) continue;
    const root = definitions[name] ?? {};
    const used = reachable(definitions, root);
    const standalone: Schema = {
      ...root,
      definitions: Object.fromEntries([...used].map((ref) => [ref, definitions[ref] ?? {}])),
    };
    for (const gvk of gvks as { group: string; version: string; kind: string }[]) {
      files.set(schemaFileName(gvk), standalone);
    }
  }
  return files;
}

interface CrdDocument {
  spec: {
    group: string;
    names: { kind: string };
    versions: { name: string; schema?: { openAPIV3Schema?: Schema } }[];
  };
}

/** The strict schema of every served version of a CustomResourceDefinition, by file name. */
export function schemasOfCrd(crd: CrdDocument): Map<string, Schema> {
  const files = new Map<string, Schema>();
  for (const version of crd.spec.versions) {
    const schema = version.schema?.openAPIV3Schema;
    if (schema === undefined) continue;
    const gvk = { group: crd.spec.group, version: version.name, kind: crd.spec.names.kind };
    files.set(schemaFileName(gvk), strictOf(schema, '#/definitions/') as Schema);
  }
  return files;
}

/** Writes schemas into `<dir>/v<version>-standalone-strict/` atomically. */
function writeSchemas(dir: string, files: Map<string, Schema>): void {
  const scratch = `${dir}.tmp-${process.pid}`;
  const versioned = join(scratch, `v${kubeconformKubernetesVersion()}-standalone-strict`);
  rmSync(scratch, { recursive: true, force: true });
  mkdirSync(versioned, { recursive: true });
  for (const [name, schema] of files) writeFileSync(join(versioned, name), JSON.stringify(schema));
  publish(scratch, dir);
}

/**
 * Renames a finished scratch directory to its cache path. Test files run in parallel: when
 * another one published the same content first, its copy is kept and the scratch removed.
 */
function publish(scratch: string, dir: string): void {
  try {
    renameSync(scratch, dir);
  } catch (error) {
    rmSync(scratch, { recursive: true, force: true });
    if (!existsSync(dir)) throw error;
  }
}

async function builtInSchemas(): Promise<string> {
  const dir = join(
    cacheDir(),
    'kubeconform-schemas',
    `kubernetes-${kubeconformKubernetesVersion()}-format${SCHEMA_FORMAT}`,
  );
  if (existsSync(dir)) return dir;
  const openApi = await kubectl(['get', '--raw', '/openapi/v2']);
  writeSchemas(dir, schemasOfOpenApiV2(JSON.parse(openApi)));
  return dir;
}

/** Schemas of the CRDs in YAML texts, cached under a name made of `kind` and their hash. */
function crdSchemasOf(kind: string, crds: readonly string[]): string {
  const hash = createHash('sha256').update(crds.join('\n')).digest('hex').slice(0, 12);
  const dir = join(cacheDir(), 'kubeconform-schemas', `${kind}-${hash}-format${SCHEMA_FORMAT}`);
  if (existsSync(dir)) return dir;
  const files = new Map<string, Schema>();
  for (const text of crds) {
    for (const document of parseAllDocuments(text)) {
      for (const entry of schemasOfCrd(document.toJS() as CrdDocument)) files.set(...entry);
    }
  }
  writeSchemas(dir, files);
  return dir;
}

/** The Prometheus Operator's API package whose types controller-gen turns into CRDs. */
const MONITORING_PACKAGE =
  'github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1';

/** The Prometheus Operator's CRDs, generated from its pinned Go types (first use only). */
async function monitoringCrdTexts(): Promise<string[]> {
  const { dir } = toolModules.monitoringCrds;
  const pins = ['go.mod', 'go.sum'].map((file) => readFileSync(join(dir, file), 'utf8')).join('');
  const key = createHash('sha256').update(pins).digest('hex').slice(0, 12);
  const out = join(cacheDir(), 'monitoring-crds', key);
  if (!existsSync(out)) {
    const controllerGen = join(await ensureToolModule('monitoringCrds'), 'controller-gen');
    const scratch = mkdtempSync(join(tmpdir(), 'pgbackup-monitoring-crds-'));
    await runTool(
      controllerGen,
      ['crd:crdVersions=v1', `paths=${MONITORING_PACKAGE}`, `output:crd:dir=${scratch}`],
      { cwd: dir, env: { GOFLAGS: '-mod=mod', ...goEnv() }, timeoutMs: 600_000 },
    );
    mkdirSync(join(out, '..'), { recursive: true });
    publish(scratch, out);
  }
  return readdirSync(out)
    .sort()
    .map((file) => readFileSync(join(out, file), 'utf8'));
}

/** The directories to give kubeconform's -schema-location (needs the environment's API server). */
export async function kubeconformSchemaLocations(): Promise<string[]> {
  const ours = renderCrdFiles().map((file) => file.content);
  return [
    await builtInSchemas(),
    crdSchemasOf('crds', ours),
    crdSchemasOf('monitoring', await monitoringCrdTexts()),
  ];
}

/** kubeconform's verdict on one resource (its -output json). */
export interface KubeconformResource {
  readonly filename: string;
  readonly kind: string;
  readonly name: string;
  readonly version: string;
  readonly status:
    | 'statusValid'
    | 'statusInvalid'
    | 'statusError'
    | 'statusSkipped'
    | 'statusEmpty';
  readonly msg: string;
}

/**
 * Validates manifests (YAML text) strictly against the pinned Kubernetes version and our
 * CRDs and the Prometheus Operator's. Returns every resource's verdict,
 * valid ones included, so a test can see what was checked.
 */
export async function runKubeconform(manifests: string): Promise<KubeconformResource[]> {
  const binary = join(await ensureToolModule('kubeconform'), 'kubeconform');
  const locations = await kubeconformSchemaLocations();
  const args = [
    '-strict',
    '-kubernetes-version',
    kubeconformKubernetesVersion(),
    ...locations.flatMap((location) => ['-schema-location', location]),
    '-output',
    'json',
    '-verbose',
    '-',
  ];
  const stdout = await new Promise<string>((resolve, reject) => {
    const child = execFile(
      binary,
      args,
      { cwd: repoRoot, maxBuffer: 64 * 1024 * 1024 },
      (error, out, err) => {
        // Exit 1 means some resource is invalid: the JSON says which. Anything else is a failure.
        if (error !== null && error.code !== 1) reject(new Error(`kubeconform failed: ${err}`));
        else resolve(out);
      },
    );
    child.stdin?.end(manifests);
  });
  return (JSON.parse(stdout) as { resources?: KubeconformResource[] }).resources ?? [];
}

/** The text of a file under the repository, for validating committed manifests. */
export function repoFileText(path: string): string {
  return readFileSync(join(repoRoot, path), 'utf8');
}
