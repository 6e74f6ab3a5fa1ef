import * as z from 'zod';
import { backupSpecSchema } from './backup-spec.js';
import { backupStatusSchema } from './backup-status.js';
import { closedObject } from './fields.js';
import { API_VERSION, BACKUP_KIND } from './group-version.js';
import { objectMetaSchema } from './object-meta.js';

/** A `Backup`: one backup, from a line or on demand. */
export const backupSchema = closedObject({
  apiVersion: z.literal(API_VERSION),
  kind: z.literal(BACKUP_KIND),
  metadata: objectMetaSchema.default({}),
  spec: backupSpecSchema,
  status: backupStatusSchema.optional(),
});

/** A parsed `Backup`. */
export type Backup = z.output<typeof backupSchema>;

/** A `Backup` as a person writes it. */
export type BackupInput = z.input<typeof backupSchema>;
