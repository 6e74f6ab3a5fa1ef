/**
 * Drops object fields whose value is `null`, recursively. The API server prunes them before
 * defaulting (so `lines: ~` means "omitted"), and Helm templates produce them often; zod
 * would otherwise reject them where the API server accepts.
 */
export function pruneNulls(value: unknown): unknown {
  if (Array.isArray(value)) {
    return value.map(pruneNulls);
  }
  if (value === null || typeof value !== 'object') {
    return value;
  }
  const pruned: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(value)) {
    if (field !== null) {
      pruned[key] = pruneNulls(field);
    }
  }
  return pruned;
}
