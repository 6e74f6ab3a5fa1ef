/** The parts of any Kubernetes object the adapter reads. */

/** An owner reference as the API server returns it. */
export interface ObjectOwnerReference {
  readonly apiVersion: string;
  readonly kind: string;
  readonly name: string;
  readonly uid: string;
  readonly controller?: boolean;
}

/** Any object read from the API server. */
export interface KubeObject {
  readonly apiVersion?: string;
  readonly kind?: string;
  readonly metadata: {
    readonly name: string;
    readonly namespace?: string;
    readonly uid?: string;
    readonly resourceVersion?: string;
    readonly generation?: number;
    readonly labels?: Readonly<Record<string, string>>;
    readonly annotations?: Readonly<Record<string, string>>;
    readonly ownerReferences?: readonly ObjectOwnerReference[];
    readonly deletionTimestamp?: string;
  };
  readonly [field: string]: unknown;
}

/** `namespace/name`, the key of the work queue and of informer caches. */
export function objectKeyOf(object: { metadata: { name: string; namespace?: string } }): string {
  return `${object.metadata.namespace ?? ''}/${object.metadata.name}`;
}

/** Splits a `namespace/name` key. */
export function splitObjectKey(key: string): { namespace: string; name: string } {
  const slash = key.indexOf('/');
  return { namespace: key.slice(0, slash), name: key.slice(slash + 1) };
}

/** The uid of the object's controlling owner of the given kind, if any. */
export function controllerUidOf(object: KubeObject, kind: string): string | undefined {
  return object.metadata.ownerReferences?.find(
    (reference) => reference.controller === true && reference.kind === kind,
  )?.uid;
}
