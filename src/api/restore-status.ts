import * as z from 'zod';
import { LSN_PATTERN } from './backup-status.js';
import { conditionsSchema } from './condition.js';
import { timestamp } from './fields.js';

/** Where a restore is in its life. */
export const RESTORE_PHASES = ['Pending', 'Running', 'Succeeded', 'Failed'] as const;

/** One of {@link RESTORE_PHASES}. */
export type RestorePhase = (typeof RESTORE_PHASES)[number];

/** Whether a restore in `phase` has ended (Succeeded or Failed). */
export function isRestoreEnded(phase: string | undefined): phase is 'Succeeded' | 'Failed' {
  return phase === 'Succeeded' || phase === 'Failed';
}

const reached = z
  .object({
    lsn: z
      .string()
      .regex(LSN_PATTERN)
      .optional()
      .describe("The WAL position recovery replayed to (the backup's end without a target)."),
    lastTransactionTime: z
      .string()
      .max(64)
      .optional()
      .describe('When the last transaction recovery replayed committed, as the server logged it.'),
    timeline: z.int().min(1).optional().describe('The timeline the promoted server starts.'),
  })
  .describe('Where recovery ended, for a point-in-time restore (recovery runs inside the Job).');

/** What happened to one restore. */
export const restoreStatusSchema = z
  .object({
    phase: z.enum(RESTORE_PHASES).optional().describe('Pending, Running, Succeeded or Failed.'),
    message: z
      .string()
      .max(32768)
      .optional()
      .describe('What was done, or what went wrong and what to do about it.'),
    backup: z.string().max(1024).optional().describe('The key of the backup restored.'),
    reached: reached.optional(),
    jobName: z.string().max(63).optional().describe('The Job that runs the restore.'),
    startedAt: timestamp('When the restore started.').optional(),
    completedAt: timestamp('When the restore ended, successfully or not.').optional(),
    restoreSeconds: z
      .number()
      .min(0)
      .optional()
      .describe(
        'How long the restore took, in seconds: download, checks, extraction, pg_verifybackup and (point in time) the recovery.',
      ),
    conditions: conditionsSchema.optional().describe('Restored, and its reason.'),
  })
  .describe('What happened to the restore.');

/** Status of a `Restore`. */
export type RestoreStatus = z.output<typeof restoreStatusSchema>;
