/**
 * Writes with server-side apply under one field manager, so the API server merges our
 * fields with everyone else's and a retry is always safe; deletes; status patches.
 */
import type { KubeClient } from './kube-client.js';
import { isNotFound } from './kube-errors.js';
import type { KubeObject } from './kube-object.js';
import { type ResourceType, resourceOfKind, resourcePath } from './resource.js';

/** The field manager of every write the controller makes. */
export const FIELD_MANAGER = 'pgbackup-operator';

/** A manifest to apply: apiVersion, kind, metadata with name and namespace. */
export interface ApplyManifest {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: { readonly name: string; readonly namespace: string };
  readonly [field: string]: unknown;
}

function resourceOf(manifest: { apiVersion: string; kind: string }): ResourceType {
  const resource = resourceOfKind(manifest.apiVersion, manifest.kind);
  if (resource === undefined) {
    throw new Error(
      `${manifest.apiVersion} ${manifest.kind} is not a resource the operator writes`,
    );
  }
  return resource;
}

function describe(manifest: ApplyManifest): string {
  return `${manifest.kind} ${manifest.metadata.namespace}/${manifest.metadata.name}`;
}

/**
 * Applies a manifest; `force` takes over fields another manager set, since the operator is
 * the owner of what it applies.
 */
export function applyManifest(client: KubeClient, manifest: ApplyManifest): Promise<KubeObject> {
  const { namespace, name } = manifest.metadata;
  return client.request<KubeObject>({
    verb: 'patch',
    path: resourcePath(resourceOf(manifest), { namespace, name }),
    query: { fieldManager: FIELD_MANAGER, force: 'true' },
    body: manifest,
    contentType: 'application/apply-patch+yaml',
    what: `apply ${describe(manifest)}`,
  });
}

/** Applies the `status` of an object through its status subresource. */
export function applyStatus(
  client: KubeClient,
  manifest: ApplyManifest & { readonly status: unknown },
): Promise<KubeObject> {
  const { namespace, name } = manifest.metadata;
  return client.request<KubeObject>({
    verb: 'patch',
    path: resourcePath(resourceOf(manifest), { namespace, name, subresource: 'status' }),
    query: { fieldManager: FIELD_MANAGER, force: 'true' },
    body: {
      apiVersion: manifest.apiVersion,
      kind: manifest.kind,
      metadata: { name, namespace },
      status: manifest.status,
    },
    contentType: 'application/apply-patch+yaml',
    what: `apply the status of ${describe(manifest)}`,
  });
}

/**
 * Deletes an object, letting the garbage collector delete its dependents in the background;
 * an object already gone is not an error.
 */
export async function deleteObject(
  client: KubeClient,
  object: {
    apiVersion: string;
    kind: string;
    metadata: { name: string; namespace: string; uid?: string };
  },
): Promise<void> {
  const { namespace, name, uid } = object.metadata;
  try {
    await client.request({
      verb: 'delete',
      path: resourcePath(resourceOf(object), { namespace, name }),
      // The uid precondition keeps a stale cache from deleting a newer object of that name.
      body: {
        propagationPolicy: 'Background',
        ...(uid !== undefined ? { preconditions: { uid } } : {}),
      },
      what: `delete ${object.kind} ${namespace}/${name}`,
    });
  } catch (error) {
    if (!isNotFound(error)) throw error;
  }
}

/** Reads one object, or undefined when it does not exist. */
export async function getObject(
  client: KubeClient,
  resource: ResourceType,
  where: { namespace: string; name: string },
): Promise<KubeObject | undefined> {
  try {
    return await client.request<KubeObject>({
      verb: 'get',
      path: resourcePath(resource, where),
      what: `get ${resource.kind} ${where.namespace}/${where.name}`,
    });
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}
