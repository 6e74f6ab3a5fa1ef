import * as z from 'zod';
import { withRules } from './cross-field-rule.js';
import { closedObject, objectName } from './fields.js';
import { BACKUP_TYPES, BINARY_LINES } from './lines.js';

/** What one backup is: which policy, which kind, which line. */
export const backupSpecSchema = withRules(
  closedObject({
    policy: objectName('Name of the BackupPolicy, in the same namespace, the backup is taken for.'),
    type: z
      .enum(BACKUP_TYPES)
      .describe('binary (pg_basebackup of the primary) or logical (pg_dump of a replica).'),
    line: z
      .enum(BINARY_LINES)
      .optional()
      .describe(
        'The retention line the backup belongs to. Omitted for an on-demand backup, which belongs to no line and is never pruned.',
      ),
  }),
  [
    {
      cel: "!(self.type == 'logical' && has(self.line) && self.line == 'daily')",
      message: 'logical backups have no daily line; use weekly, monthly, quarterly or yearly',
      field: ['line'],
      check: (spec) => !(spec.type === 'logical' && spec.line === 'daily'),
    },
    {
      // A Backup records what was taken; changing it afterwards would misfile the artifact.
      cel: 'self == oldSelf',
      message: 'is immutable; create a new Backup instead',
    },
  ],
).describe('Which backup this is. Immutable once created.');

/** Spec of a `Backup`. */
export type BackupSpec = z.output<typeof backupSpecSchema>;
