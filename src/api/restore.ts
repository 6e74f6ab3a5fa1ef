import * as z from 'zod';
import { closedObject } from './fields.js';
import { API_VERSION } from './group-version.js';
import { objectMetaSchema } from './object-meta.js';
import { restoreSpecSchema } from './restore-spec.js';
import { restoreStatusSchema } from './restore-status.js';

/** Kind of the resource that restores a backup into a PersistentVolumeClaim. */
export const RESTORE_KIND = 'Restore';

/** Plural (URL) name of {@link RESTORE_KIND}. */
export const RESTORE_PLURAL = 'restores';

/** A `Restore`: one binary backup (or instant) restored into a claim by a Job. */
export const restoreSchema = closedObject({
  apiVersion: z.literal(API_VERSION),
  kind: z.literal(RESTORE_KIND),
  metadata: objectMetaSchema.default({}),
  spec: restoreSpecSchema,
  status: restoreStatusSchema.optional(),
});

/** A parsed `Restore`. */
export type Restore = z.output<typeof restoreSchema>;

/** A `Restore` as a person writes it. */
export type RestoreInput = z.input<typeof restoreSchema>;
