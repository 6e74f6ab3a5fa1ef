/**
 * Deterministic names for the objects a policy owns, so a retried reconcile never creates a
 * second copy. Long names are cut and suffixed with a hash of the whole name, which keeps
 * them unique and stable.
 */

/**
 * The longest CronJob name: the CronJob controller appends an 11-character suffix
 * (`-<minutes since epoch>`) to name its Jobs, which must fit in 63 characters.
 */
export const CRON_JOB_NAME_MAX = 52;

/** The longest name of an object whose name is a DNS subdomain and also a label value. */
export const LABEL_VALUE_MAX = 63;

/** FNV-1a (32 bits) of a string, in base 36: a short stable digest, not a security measure. */
export function shortHashOf(text: string): string {
  let hash = 0x811c9dc5;
  for (let index = 0; index < text.length; index += 1) {
    hash ^= text.charCodeAt(index);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash.toString(36).padStart(7, '0');
}

/**
 * `name` when it fits in `maxLength`, otherwise its head and a hash of the whole name,
 * `<head>-<hash>`, exactly `maxLength` long at most and ending in an alphanumeric.
 */
export function boundedName(name: string, maxLength: number): string {
  if (name.length <= maxLength) return name;
  const hash = shortHashOf(name);
  const head = name.slice(0, maxLength - hash.length - 1).replace(/[-.]+$/, '');
  return `${head}-${hash}`;
}
