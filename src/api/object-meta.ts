import * as z from 'zod';

/**
 * The parts of `metadata` this API reads. Everything else the API server adds (uid,
 * resourceVersion, managedFields, …) passes through untouched.
 */
export const objectMetaSchema = z.looseObject({
  name: z.string().optional(),
  namespace: z.string().optional(),
  generation: z.int().optional(),
  labels: z.record(z.string(), z.string()).optional(),
  annotations: z.record(z.string(), z.string()).optional(),
});

/** Standard object metadata, as far as this API reads it. */
export type ObjectMeta = z.output<typeof objectMetaSchema>;
