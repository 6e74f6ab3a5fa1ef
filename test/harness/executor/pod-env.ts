/**
 * A container's environment as the kubelet builds it: literal values, `$(VAR)` references to
 * earlier variables, and values from Secrets, ConfigMaps and the pod's own fields. Reading
 * the Secrets and ConfigMaps is left to the caller (through the API, as a kubelet does), so
 * the rules here are pure and unit-tested.
 */
import type { V1Container, V1EnvVar, V1Pod } from '@kubernetes/client-node';

/** The string data of a Secret (decoded) or ConfigMap; undefined when it does not exist. */
export type DataLookup = (
  kind: 'Secret' | 'ConfigMap',
  name: string,
) => Promise<Readonly<Record<string, string>> | undefined>;

/**
 * A container that cannot be configured yet (a missing Secret, key or unsupported field):
 * the kubelet reports it as `CreateContainerConfigError` and tries again later.
 */
export class ContainerConfigError extends Error {
  override readonly name = 'ContainerConfigError';
}

const REFERENCE = /\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)/g;

/**
 * Expands `$(NAME)` with the variables defined so far; `$$` escapes a `$`, and a reference to
 * an undefined variable stays as written (the kubelet's rules).
 */
export function expandReferences(text: string, vars: Readonly<Record<string, string>>): string {
  return text.replace(REFERENCE, (match, name: string | undefined) => {
    if (name === undefined) return '$';
    return vars[name] ?? match;
  });
}

const SUBSCRIPTED = /^metadata\.(labels|annotations)\['([^']+)'\]$/;

/** The value of a downward-API `fieldRef` path of a pod. */
export function podFieldValue(pod: V1Pod, fieldPath: string): string {
  const subscripted = SUBSCRIPTED.exec(fieldPath);
  if (subscripted !== null) {
    const map = subscripted[1] === 'labels' ? pod.metadata?.labels : pod.metadata?.annotations;
    return map?.[subscripted[2] ?? ''] ?? '';
  }
  const fields: Record<string, string | undefined> = {
    'metadata.name': pod.metadata?.name,
    'metadata.namespace': pod.metadata?.namespace,
    'metadata.uid': pod.metadata?.uid,
    'spec.nodeName': pod.spec?.nodeName,
    'spec.serviceAccountName': pod.spec?.serviceAccountName,
    'status.hostIP': pod.status?.hostIP,
    'status.podIP': pod.status?.podIP,
  };
  if (!(fieldPath in fields)) {
    throw new ContainerConfigError(
      `fieldRef "${fieldPath}" is not supported by the local executor; use one of ${Object.keys(fields).join(', ')}`,
    );
  }
  return fields[fieldPath] ?? '';
}

async function referencedValue(
  lookup: DataLookup,
  kind: 'Secret' | 'ConfigMap',
  ref: { name?: string; key: string; optional?: boolean },
  namespace: string,
): Promise<string | undefined> {
  const data = await lookup(kind, ref.name ?? '');
  const value = data?.[ref.key];
  if (value !== undefined || ref.optional === true) return value;
  const what = `${kind} ${namespace}/${ref.name}`;
  throw new ContainerConfigError(
    data === undefined ? `${what} not found` : `couldn't find key ${ref.key} in ${what}`,
  );
}

async function variableValue(
  pod: V1Pod,
  variable: V1EnvVar,
  vars: Readonly<Record<string, string>>,
  lookup: DataLookup,
): Promise<string | undefined> {
  const from = variable.valueFrom;
  if (from === undefined) return expandReferences(variable.value ?? '', vars);
  const namespace = pod.metadata?.namespace ?? '';
  if (from.secretKeyRef !== undefined) {
    return referencedValue(lookup, 'Secret', from.secretKeyRef, namespace);
  }
  if (from.configMapKeyRef !== undefined) {
    return referencedValue(lookup, 'ConfigMap', from.configMapKeyRef, namespace);
  }
  if (from.fieldRef !== undefined) return podFieldValue(pod, from.fieldRef.fieldPath);
  throw new ContainerConfigError(
    `env ${variable.name}: only secretKeyRef, configMapKeyRef and fieldRef are supported by the local executor`,
  );
}

async function envFromValues(
  pod: V1Pod,
  container: V1Container,
  lookup: DataLookup,
): Promise<Record<string, string>> {
  const values: Record<string, string> = {};
  for (const source of container.envFrom ?? []) {
    const ref = source.secretRef ?? source.configMapRef;
    if (ref === undefined) continue;
    const kind = source.secretRef !== undefined ? 'Secret' : 'ConfigMap';
    const data = await lookup(kind, ref.name ?? '');
    if (data === undefined && ref.optional !== true) {
      throw new ContainerConfigError(`${kind} ${pod.metadata?.namespace}/${ref.name} not found`);
    }
    for (const [key, value] of Object.entries(data ?? {})) {
      values[`${source.prefix ?? ''}${key}`] = value;
    }
  }
  return values;
}

/**
 * The environment of a container: `envFrom` first, then `env` in order (later entries win),
 * each value expanded against the variables before it.
 *
 * @throws ContainerConfigError when a referenced Secret, ConfigMap or key is missing.
 */
export async function resolveContainerEnv(
  pod: V1Pod,
  container: V1Container,
  lookup: DataLookup,
): Promise<Record<string, string>> {
  const vars = await envFromValues(pod, container, lookup);
  for (const variable of container.env ?? []) {
    const value = await variableValue(pod, variable, vars, lookup);
    if (value !== undefined) vars[variable.name] = value;
  }
  return vars;
}
