/**
 * The shapes of the Kubernetes objects the render functions produce: only the fields this
 * operator sets, as plain data (the pure core imports no client library).
 */

/** An owner reference, as in `metadata.ownerReferences`. */
export interface OwnerReference {
  readonly apiVersion: string;
  readonly kind: string;
  readonly name: string;
  readonly uid: string;
  readonly controller: boolean;
  readonly blockOwnerDeletion: boolean;
}

/** The metadata of an object the operator owns. */
export interface ManifestMeta {
  readonly name: string;
  readonly namespace: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations?: Readonly<Record<string, string>>;
  readonly ownerReferences: readonly OwnerReference[];
}

/** Any object the operator applies: apiVersion, kind, metadata and the rest. */
export interface Manifest {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: ManifestMeta;
  readonly [field: string]: unknown;
}

/** The object a manifest is owned by: a policy or a Backup. */
export interface Owner {
  readonly apiVersion: string;
  readonly kind: string;
  readonly name: string;
  readonly namespace: string;
  readonly uid: string;
}

/** The owner reference that makes `owner` the controller of an object (garbage collection). */
export function ownerReferenceOf(owner: Owner): OwnerReference {
  return {
    apiVersion: owner.apiVersion,
    kind: owner.kind,
    name: owner.name,
    uid: owner.uid,
    controller: true,
    blockOwnerDeletion: true,
  };
}
