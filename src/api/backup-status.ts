import * as z from 'zod';
import { timestamp } from './fields.js';

/** Where a backup is in its life. */
export const BACKUP_PHASES = ['Pending', 'Running', 'Completed', 'Failed', 'Skipped'] as const;

/** One of {@link BACKUP_PHASES}. */
export type BackupPhase = (typeof BACKUP_PHASES)[number];

/** The phases a backup's run ends in. */
export const BACKUP_END_PHASES = ['Completed', 'Failed', 'Skipped'] as const;

/** One of {@link BACKUP_END_PHASES}. */
export type BackupEndPhase = (typeof BACKUP_END_PHASES)[number];

/** Whether a backup in `phase` has ended (Completed, Failed or Skipped). */
export function isEndPhase(phase: string | undefined): phase is BackupEndPhase {
  return (BACKUP_END_PHASES as readonly string[]).includes(phase ?? '');
}

/** A PostgreSQL log sequence number, e.g. `0/3000028`. */
export const LSN_PATTERN = /^[0-9A-F]{1,8}\/[0-9A-F]{1,8}$/;

const lsn = (description: string) => z.string().regex(LSN_PATTERN).optional().describe(description);

const artifact = z
  .object({
    bucket: z.string().max(63).describe('Bucket holding the backup.'),
    key: z
      .string()
      .max(1024)
      .describe("Key prefix of the backup's objects; its manifest is <key>manifest.json."),
    localClaimName: z
      .string()
      .max(253)
      .optional()
      .describe('PersistentVolumeClaim holding the local copy, if any.'),
    localPath: z.string().max(1024).optional().describe('Path of the local copy in that volume.'),
  })
  .describe('Where the backup is stored.');

/** The restore drills `pgbackup verify --type` runs. */
export const DRILL_TYPES = ['binary', 'logical', 'point-in-time'] as const;

const verification = z
  .object({
    result: z.enum(['Passed', 'Failed']).describe('Passed or Failed.'),
    type: z
      .enum(DRILL_TYPES)
      .optional()
      .describe(
        'Which drill checked the backup: binary, logical or point-in-time (absent: written before drills recorded their type).',
      ),
    target: timestamp(
      'The point-in-time drill: the instant it asked recovery to reach (the commit time of a transaction archived after the backup).',
    ).optional(),
    reached: timestamp(
      'The point-in-time drill: the commit time of the last transaction recovery replayed; equal to the target when it reached it.',
    ).optional(),
    time: timestamp('When the restore drill finished.'),
    message: z.string().max(4096).optional().describe('What the drill found.'),
    restoreSeconds: z
      .number()
      .min(0)
      .optional()
      .describe(
        "How long the drill's restore took, in seconds: the binary drill's download, extraction, pg_verifybackup and recovery; the point-in-time drill's the same with the WAL replayed to the target; the logical drill's pg_restore of every database.",
      ),
  })
  .describe('Result of the last restore drill of this backup.');

/** What happened to one backup. */
export const backupStatusSchema = z
  .object({
    phase: z
      .enum(BACKUP_PHASES)
      .optional()
      .describe('Pending, Running, Completed, Failed or Skipped.'),
    slot: z.int().min(0).optional().describe('Slot number within the line.'),
    slotLabel: z
      .string()
      .max(64)
      .optional()
      .describe('Slot label, e.g. mon, sun-2, jan, q3 or 2026.'),
    artifact: artifact.optional(),
    sizeBytes: z.int().min(0).optional().describe('Total size of the stored objects in bytes.'),
    checksum: z
      .string()
      .regex(/^sha256:[0-9a-f]{64}$/)
      .optional()
      .describe(
        'SHA-256 of manifest.json, which holds the SHA-256 of every object, as sha256:<hex>.',
      ),
    startLsn: lsn('WAL position where the backup starts (binary backups).'),
    stopLsn: lsn('WAL position where the backup ends (binary backups).'),
    serverVersion: z
      .string()
      .max(64)
      .optional()
      .describe('PostgreSQL version of the server backed up, e.g. 17.2.'),
    startedAt: timestamp('When the run started.').optional(),
    completedAt: timestamp('When the run finished, successfully or not.').optional(),
    verification: verification.optional(),
    message: z
      .string()
      .max(32768)
      .optional()
      .describe(
        'What went wrong and what to do about it, why the run was skipped, or a note on a completed run (a logical backup taken from the primary because no replica was available).',
      ),
  })
  .describe('What happened to the backup.');

/** Status of a `Backup`. */
export type BackupStatus = z.output<typeof backupStatusSchema>;
