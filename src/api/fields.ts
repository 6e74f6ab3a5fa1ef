import * as z from 'zod';
import type { RuleIssueParams } from './cross-field-rule.js';
import { KEEP_MAX, KEEP_MIN } from './lines.js';

/** A DNS-1123 subdomain: the names of Kubernetes objects such as Secrets and PVCs. */
export const OBJECT_NAME_PATTERN =
  /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** A Kubernetes label value (non-empty): what presets match cluster names against. */
export const LABEL_VALUE_PATTERN = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;

/**
 * An object that rejects fields it does not know, as the API server does under strict field
 * validation (kubectl's default), and says which fields it does know.
 */
export function closedObject<Shape extends z.ZodRawShape>(shape: Shape) {
  const allowed = Object.keys(shape).join(', ');
  return z.strictObject(shape, {
    error: (issue) =>
      issue.code === 'unrecognized_keys' ? `allowed fields are ${allowed}` : undefined,
  });
}

/** The name of a Kubernetes object in the policy's namespace. */
export function objectName(description: string) {
  return z
    .string()
    .max(253)
    .regex(OBJECT_NAME_PATTERN, {
      error: 'must be a lowercase DNS-1123 name such as "orders-backup" (a-z, 0-9, "-", ".")',
    })
    .describe(description);
}

/** A reference to a Secret in the policy's namespace. */
export function secretReference(description: string) {
  return closedObject({
    secretName: objectName('Name of the Secret, in the same namespace as the policy.'),
  }).describe(description);
}

/** How many slots one line keeps. */
export function keepCount(description: string) {
  return z
    .int()
    .min(KEEP_MIN, { error: `must be from ${KEEP_MIN} to ${KEEP_MAX} (the number of slots kept)` })
    .max(KEEP_MAX, { error: `must be from ${KEEP_MIN} to ${KEEP_MAX} (the number of slots kept)` })
    .describe(`${description} A whole number from ${KEEP_MIN} to ${KEEP_MAX}.`);
}

/**
 * A list whose items must be distinct; the API server enforces the same through
 * `x-kubernetes-list-type: set`.
 */
export function setOf<Item extends z.ZodType<string>>(item: Item, maxItems: number) {
  return z
    .array(item)
    .max(maxItems)
    .superRefine((items, context) => {
      const seen = new Set<string>();
      items.forEach((value, index) => {
        if (seen.has(value)) {
          context.addIssue({
            code: 'custom',
            message: 'Duplicate value',
            path: [index],
            input: value,
            params: { reason: 'FieldValueDuplicate' } satisfies RuleIssueParams,
          });
        }
        seen.add(value);
      });
    })
    .meta({ 'x-kubernetes-list-type': 'set' });
}

/** An RFC 3339 timestamp in UTC, as Kubernetes writes `metav1.Time`. */
export function timestamp(description: string) {
  return z.iso.datetime().describe(description);
}

/**
 * Defaults an omitted object to what parsing `{}` gives. The CRD then carries the complete
 * default: the API server checks a default against the CEL rules as written, without first
 * filling in the defaults nested inside it.
 */
export function defaultToEmpty<S extends z.ZodType<object>>(schema: S) {
  return schema.default(() => schema.parse({}) as z.util.NoUndefined<z.output<S>>);
}
