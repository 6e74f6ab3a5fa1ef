/**
 * Fills a pod's projected volumes as the kubelet does: service-account tokens from the
 * TokenRequest API, bound to the pod (so they stop working when it is deleted), ConfigMap and
 * Secret keys, and downward-API fields. In practice this is the `kube-api-access-*` volume
 * the ServiceAccount admission plugin adds to every pod: token, ca.crt and namespace.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { V1Pod, V1VolumeProjection } from '@kubernetes/client-node';
import type { KubeClient } from '../../../src/kube/index.js';
import { ContainerConfigError, type DataLookup, podFieldValue } from './pod-env.js';

/** The kubelet's default lifetime of a projected token (an hour and a bit, to spread refreshes). */
const DEFAULT_TOKEN_SECONDS = 3607;

async function podToken(
  client: KubeClient,
  pod: V1Pod,
  source: NonNullable<V1VolumeProjection['serviceAccountToken']>,
): Promise<string> {
  const namespace = pod.metadata?.namespace ?? '';
  const account = pod.spec?.serviceAccountName ?? 'default';
  const answer = await client.request<{ status?: { token?: string } }>({
    verb: 'create',
    path: `/api/v1/namespaces/${namespace}/serviceaccounts/${account}/token`,
    body: {
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'TokenRequest',
      spec: {
        ...(source.audience === undefined ? {} : { audiences: [source.audience] }),
        expirationSeconds: source.expirationSeconds ?? DEFAULT_TOKEN_SECONDS,
        boundObjectRef: {
          apiVersion: 'v1',
          kind: 'Pod',
          name: pod.metadata?.name,
          uid: pod.metadata?.uid,
        },
      },
    },
    what: `request a token of ServiceAccount ${namespace}/${account} for pod ${pod.metadata?.name}`,
  });
  const token = answer.status?.token;
  if (token === undefined) throw new Error(`the TokenRequest for ${account} returned no token`);
  return token;
}

async function keyFiles(
  lookup: DataLookup,
  kind: 'Secret' | 'ConfigMap',
  ref: { name?: string; optional?: boolean; items?: { key: string; path: string }[] },
): Promise<[string, string][]> {
  const data = await lookup(kind, ref.name ?? '');
  if (data === undefined) {
    if (ref.optional === true) return [];
    throw new ContainerConfigError(`${kind} ${ref.name} of a projected volume not found`);
  }
  const items = ref.items ?? Object.keys(data).map((key) => ({ key, path: key }));
  return items.map((item) => {
    const value = data[item.key];
    if (value === undefined) {
      throw new ContainerConfigError(`couldn't find key ${item.key} in ${kind} ${ref.name}`);
    }
    return [item.path, value];
  });
}

async function filesOf(
  client: KubeClient,
  pod: V1Pod,
  source: V1VolumeProjection,
  lookup: DataLookup,
): Promise<[string, string][]> {
  if (source.serviceAccountToken !== undefined) {
    return [
      [source.serviceAccountToken.path, await podToken(client, pod, source.serviceAccountToken)],
    ];
  }
  if (source.configMap !== undefined) return keyFiles(lookup, 'ConfigMap', source.configMap);
  if (source.secret !== undefined) return keyFiles(lookup, 'Secret', source.secret);
  if (source.downwardAPI !== undefined) {
    return (source.downwardAPI.items ?? []).map((item) => {
      if (item.fieldRef === undefined) {
        throw new ContainerConfigError(`downwardAPI item ${item.path}: only fieldRef is supported`);
      }
      return [item.path, podFieldValue(pod, item.fieldRef.fieldPath)];
    });
  }
  throw new ContainerConfigError(
    `projected source ${Object.keys(source).join(', ')} is not supported by the local executor`,
  );
}

/** Writes the files of every projected volume of the pod into `volumesDir/<volume>/`. */
export async function writeProjectedVolumes(
  client: KubeClient,
  pod: V1Pod,
  volumesDir: string,
  lookup: DataLookup,
): Promise<void> {
  for (const volume of pod.spec?.volumes ?? []) {
    for (const source of volume.projected?.sources ?? []) {
      for (const [path, content] of await filesOf(client, pod, source, lookup)) {
        const file = join(volumesDir, volume.name, path);
        await mkdir(dirname(file), { recursive: true, mode: 0o700 });
        await writeFile(file, content, { mode: 0o600 });
      }
    }
  }
}
