import * as z from 'zod';
import { backupPolicySpecSchema } from './backup-policy-spec.js';
import { backupPolicyStatusSchema } from './backup-policy-status.js';
import { closedObject } from './fields.js';
import { API_VERSION, BACKUP_POLICY_KIND } from './group-version.js';
import { objectMetaSchema } from './object-meta.js';

/** A `BackupPolicy`: the backup plan of one PostgreSQL cluster. */
export const backupPolicySchema = closedObject({
  apiVersion: z.literal(API_VERSION),
  kind: z.literal(BACKUP_POLICY_KIND),
  metadata: objectMetaSchema.default({}),
  spec: backupPolicySpecSchema,
  status: backupPolicyStatusSchema.optional(),
});

/** A parsed `BackupPolicy`, defaults applied. */
export type BackupPolicy = z.output<typeof backupPolicySchema>;

/** A `BackupPolicy` as a person writes it. */
export type BackupPolicyInput = z.input<typeof backupPolicySchema>;
