import * as z from 'zod';
import { conditionsSchema } from './condition.js';
import { continuousStatusSchema } from './continuous.js';
import { timestamp } from './fields.js';
import { BACKUP_TYPES, BINARY_LINES } from './lines.js';

/** What a CronJob owned by a policy runs. */
export const CRON_JOB_PURPOSES = [...BACKUP_TYPES, 'verify'] as const;

const cronJobStatus = z
  .object({
    name: z.string().max(253).describe('Name of the CronJob.'),
    type: z.enum(CRON_JOB_PURPOSES).describe('What it runs: binary, logical or verify.'),
    line: z.enum(BINARY_LINES).optional().describe('The line it takes backups for.'),
    schedule: z.string().max(128).describe("Its cron schedule, in the policy's time zone."),
  })
  .describe('A CronJob the policy owns.');

const slotStatus = z
  .object({
    type: z.enum(BACKUP_TYPES).describe('binary or logical.'),
    line: z.enum(BINARY_LINES).describe('The line the slot belongs to.'),
    slot: z.int().min(0).describe('Slot number, from 0 to keep - 1.'),
    label: z.string().max(64).describe('Slot label, e.g. mon, sun-2, jan, q3 or 2026.'),
    backup: z.string().max(253).optional().describe('Name of the Backup in the slot.'),
    time: timestamp('When the occupant was taken.').optional(),
    sizeBytes: z.int().min(0).optional().describe('Size of the occupant in bytes.'),
    stale: z
      .boolean()
      .default(false)
      .describe('The latest run for this slot failed, so the occupant is from an older period.'),
  })
  .describe('One retention slot and the backup occupying it.');

const replicationSlotStatus = z
  .object({
    name: z
      .string()
      .max(63)
      .describe(
        'Name of the physical replication slot on the primary (pgbackup_ and 16 hex digits).',
      ),
    retainedBytes: z
      .int()
      .min(0)
      .describe('WAL the slot keeps the primary from removing, in bytes.'),
    leftover: z
      .boolean()
      .describe(
        'No binary run of the policy is live: a killed run left the slot, and it holds WAL until the next binary run (or the controller, once the policy is suspended or deleted) drops it.',
      ),
  })
  .describe("The policy's replication slot on the primary, while one exists.");

/** What the controller observed of a policy. */
export const backupPolicyStatusSchema = z
  .object({
    observedGeneration: z
      .int()
      .min(0)
      .optional()
      .describe('The .metadata.generation this status describes.'),
    conditions: conditionsSchema
      .optional()
      .describe('Ready, Reconciled, LastBackupSucceeded and their reasons.'),
    cronJobs: z
      .array(cronJobStatus)
      .max(32)
      .meta({ 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['name'] })
      .optional()
      .describe('The CronJobs the policy owns, one per enabled type and line.'),
    slots: z
      .array(slotStatus)
      .max(1000)
      .meta({
        'x-kubernetes-list-type': 'map',
        'x-kubernetes-list-map-keys': ['type', 'line', 'slot'],
      })
      .optional()
      .describe('Every slot of every line and its occupant.'),
    replicationSlot: replicationSlotStatus.optional(),
    continuous: continuousStatusSchema.optional(),
    lastBackupTime: timestamp('When the newest successful backup finished.').optional(),
    nextBackupTime: timestamp('When the next backup is scheduled.').optional(),
  })
  .describe('State observed by the controller.');

/** Status of a `BackupPolicy`. */
export type BackupPolicyStatus = z.output<typeof backupPolicyStatusSchema>;

/** One row of the slot table. */
export type SlotStatus = z.output<typeof slotStatus>;

/** The policy's replication slot, as the controller last saw it. */
export type ReplicationSlotStatus = z.output<typeof replicationSlotStatus>;

/** One owned CronJob. */
export type CronJobStatus = z.output<typeof cronJobStatus>;
