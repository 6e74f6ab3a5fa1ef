/**
 * "Compare before applying": whether what exists already is what the policy wants, so a
 * steady state makes no write requests at all.
 */
import { createHash } from 'node:crypto';
import type { KubeObject } from '../kube/index.js';
import type { Manifest } from '../render/index.js';

/** Annotation holding a digest of the manifest last applied. */
export const APPLIED_HASH_ANNOTATION = 'pgbackup.dev/applied-hash';

/** The manifest with the digest of its content added as an annotation. */
export function withAppliedHash(manifest: Manifest): Manifest {
  const hash = createHash('sha256').update(JSON.stringify(manifest)).digest('hex').slice(0, 32);
  const annotations = { ...manifest.metadata.annotations, [APPLIED_HASH_ANNOTATION]: hash };
  return { ...manifest, metadata: { ...manifest.metadata, annotations } };
}

/**
 * Fields the API server rewrites into a canonical form (quantities: `1.5` → `1500m`), so
 * comparing them by value would see a change that is not one; the digest covers them.
 */
const CANONICALIZED_FIELDS = new Set(['resources']);

/** Whether every field of `desired` has the same value in `actual` (which may have more). */
export function containsDesired(desired: unknown, actual: unknown): boolean {
  if (Array.isArray(desired)) {
    return (
      Array.isArray(actual) &&
      actual.length === desired.length &&
      desired.every((item, index) => containsDesired(item, actual[index]))
    );
  }
  if (typeof desired === 'object' && desired !== null) {
    if (typeof actual !== 'object' || actual === null) return false;
    const actualRecord = actual as Record<string, unknown>;
    return Object.entries(desired).every(
      ([key, value]) => CANONICALIZED_FIELDS.has(key) || containsDesired(value, actualRecord[key]),
    );
  }
  // The server returns int-or-string fields as it stores them.
  return desired === actual || String(desired) === String(actual);
}

/**
 * Whether an existing object matches a manifest (with its digest): the digest says no field
 * was removed from the manifest since it was applied, and the containment check says nobody
 * changed the object by hand since.
 */
export function isUpToDate(desired: Manifest, actual: KubeObject | undefined): boolean {
  if (actual === undefined) return false;
  const hash = desired.metadata.annotations?.[APPLIED_HASH_ANNOTATION];
  // Items of a list (what informers cache) carry no apiVersion and kind of their own.
  const { apiVersion: _apiVersion, kind: _kind, ...fields } = desired;
  return (
    actual.metadata.annotations?.[APPLIED_HASH_ANNOTATION] === hash &&
    containsDesired(fields, actual)
  );
}

/** Deep equality of JSON values, ignoring the order of object keys. */
export function jsonEqual(left: unknown, right: unknown): boolean {
  if (Array.isArray(left)) {
    return (
      Array.isArray(right) &&
      left.length === right.length &&
      left.every((item, index) => jsonEqual(item, right[index]))
    );
  }
  if (typeof left === 'object' && left !== null) {
    if (typeof right !== 'object' || right === null || Array.isArray(right)) return false;
    const leftEntries = Object.entries(left).filter(([, value]) => value !== undefined);
    const rightRecord = right as Record<string, unknown>;
    const rightCount = Object.values(rightRecord).filter((value) => value !== undefined).length;
    return (
      leftEntries.length === rightCount &&
      leftEntries.every(([key, value]) => jsonEqual(value, rightRecord[key]))
    );
  }
  return left === right;
}
