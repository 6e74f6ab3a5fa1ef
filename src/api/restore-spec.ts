import * as z from 'zod';
import { LSN_PATTERN } from './backup-status.js';
import { withRules } from './cross-field-rule.js';
import { closedObject, objectName } from './fields.js';
import { QUANTITY_PATTERN } from './job-template.js';
import { BINARY_LINES } from './lines.js';

/** The line names a Restore may pick its backup from: each binary line, or on-demand backups. */
export const RESTORE_LINES = [...BINARY_LINES, 'on-demand'] as const;

/** The claim a Restore fills. */
const pvcSchema = withRules(
  closedObject({
    name: objectName(
      'Name of the PersistentVolumeClaim, in the same namespace, to restore into. The data directory is written to its subdirectory pgdata.',
    ),
    size: z
      .string()
      .regex(QUANTITY_PATTERN, { error: 'must be a quantity such as 20Gi' })
      .optional()
      .describe(
        'Create the claim with this size (e.g. 20Gi) when it does not exist. Omitted: the claim must exist, and be empty. A claim the Restore creates belongs to nobody: deleting the Restore keeps it.',
      ),
    storageClassName: objectName(
      'StorageClass of the claim the Restore creates (with size); omitted: the cluster default.',
    ).optional(),
  }),
  [
    {
      cel: '!has(self.storageClassName) || has(self.size)',
      message:
        'storageClassName goes with size: a class only matters for a claim the Restore creates; add size or drop storageClassName',
      field: ['storageClassName'],
      reason: 'FieldValueForbidden',
      check: (pvc) => pvc.storageClassName === undefined || pvc.size !== undefined,
    },
  ],
).describe('The PersistentVolumeClaim to restore into: existing and empty, or created with size.');

/** The ways a Restore chooses what it restores, as their field names. */
const CHOICES = ['backup', 'line', 'targetTime', 'targetLsn', 'targetLatest'] as const;

/** What one restore into a claim is: which policy, which backup or instant, which claim. */
export const restoreSpecSchema = withRules(
  closedObject({
    policy: objectName('Name of the BackupPolicy, in the same namespace, whose backups are read.'),
    type: z
      .enum(['binary'])
      .default('binary')
      .describe(
        'binary (the only type): a data directory restored into the claim. A logical backup restores into a running server with "pgbackup restore --type logical", not into a claim.',
      ),
    backup: z
      .string()
      .min(1)
      .max(1024)
      .optional()
      .describe('The key of the binary backup to restore, as "pgbackup list" prints it.'),
    line: z
      .enum(RESTORE_LINES)
      .optional()
      .describe('Restore the newest binary backup of this line (daily, ..., or on-demand).'),
    targetTime: z.iso
      .datetime({ offset: true })
      .optional()
      .describe(
        "Point in time: recover to this instant (RFC 3339, e.g. 2026-12-03T14:40:01.5Z): every transaction committed at or before it. Needs the policy's continuous protection.",
      ),
    targetLsn: z
      .string()
      .regex(LSN_PATTERN, { error: 'must be a WAL position such as 0/3000148' })
      .optional()
      .describe('Point in time: recover to this WAL position (e.g. 0/3000148), inclusive.'),
    targetLatest: z
      .boolean()
      .optional()
      .describe('Point in time: recover all the WAL the bucket holds.'),
    pvc: pvcSchema,
  }),
  [
    {
      cel: `[${CHOICES.map((field) => (field === 'targetLatest' ? 'has(self.targetLatest) && self.targetLatest' : `has(self.${field})`)).join(', ')}].filter(x, x).size() <= 1`,
      message:
        'give at most one of backup, line, targetTime, targetLsn and targetLatest (none: the newest binary backup)',
      reason: 'FieldValueForbidden',
      check: (spec) =>
        CHOICES.filter((field) =>
          field === 'targetLatest' ? spec.targetLatest === true : spec[field] !== undefined,
        ).length <= 1,
    },
    {
      // A Restore records what was restored; changing it afterwards would misdescribe the claim.
      cel: 'self == oldSelf',
      message: 'is immutable; create a new Restore instead',
    },
  ],
).describe('What to restore and where. Immutable once created.');

/** Spec of a `Restore`. */
export type RestoreSpec = z.output<typeof restoreSpecSchema>;
