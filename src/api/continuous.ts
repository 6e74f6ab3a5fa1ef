/**
 * Continuous protection: WAL streamed from the primary into the bucket by a receiver
 * (`pgbackup wal-receive`), so the recovery point is seconds, not the last nightly backup.
 * The spec says how; the status is what the receiver reports of itself.
 */
import * as z from 'zod';
import { LSN_PATTERN } from './backup-status.js';
import { COMPRESSIONS } from './binary.js';
import { withRules } from './cross-field-rule.js';
import { DURATION_PATTERN, parseDurationSeconds } from './duration.js';
import { closedObject, defaultToEmpty, timestamp } from './fields.js';
import { QUANTITY_PATTERN, resourcesSchema } from './job-template.js';

/**
 * How far back a point-in-time restore must reach: whole days (`7d`), or a duration as
 * {@link DURATION_PATTERN} (`36h`, `90m`). RE2-safe, since it goes into the CRD.
 */
export const WINDOW_PATTERN =
  /^([0-9]{1,3}d|[0-9]{1,4}h([0-9]{1,4}m)?([0-9]{1,4}s)?|[0-9]{1,4}m([0-9]{1,4}s)?|[0-9]{1,4}s)$/;

/** A window such as `7d` or `36h` in seconds, or undefined when it is not one. */
export function parseWindowSeconds(text: string): number | undefined {
  const days = /^([0-9]{1,3})d$/.exec(text);
  if (days !== null) return Number(days[1]) * 86_400;
  return parseDurationSeconds(text);
}

/** A duration or window whose every amount is zero (`0s`, `0h0m`, `00d`). */
const ALL_ZERO = '^(0+[dhms])+$';

const spool = defaultToEmpty(
  closedObject({
    size: z
      .string()
      .regex(QUANTITY_PATTERN, { error: 'must be a quantity such as 5Gi' })
      .default('5Gi')
      .describe(
        'Size of the PersistentVolumeClaim that holds WAL received but not yet in the bucket. While the bucket cannot be reached it fills at the rate the database writes WAL; the primary keeps what does not fit (the slot holds it).',
      ),
    storageClassName: z
      .string()
      .max(253)
      .optional()
      .describe("Storage class of the spool's claim. Omitted: the cluster's default class."),
  }),
).describe("The receiver's spool volume.");

/** Continuous WAL protection of a policy. */
export const continuousSchema = defaultToEmpty(
  withRules(
    closedObject({
      enabled: z
        .boolean()
        .default(false)
        .describe(
          'Stream WAL from the primary into the bucket continuously (a one-replica Deployment per policy), so any instant inside spec.continuous.window can be restored.',
        ),
      compression: z
        .enum(COMPRESSIONS)
        .default('zstd')
        .describe('Compression of each WAL object in the bucket: zstd, gzip, lz4 or none.'),
      uploadInterval: z
        .string()
        .regex(DURATION_PATTERN, { error: 'must be a duration such as 10s or 1m' })
        .default('10s')
        .describe(
          'How often the unfinished WAL segment is uploaded (completed segments are uploaded at once): the most commits a lost primary can take with it, plus a few seconds.',
        ),
      window: z
        .string()
        .regex(WINDOW_PATTERN, { error: 'must be a window such as 7d or 36h' })
        .default('7d')
        .describe(
          'How far back a point-in-time restore must reach. WAL is kept from the start of the newest binary backup older than this.',
        ),
      spool,
      resources: resourcesSchema.describe('CPU and memory for the WAL receiver container.'),
    }),
    [
      {
        cel: `!self.uploadInterval.matches('${ALL_ZERO}')`,
        message: 'must be longer than zero, such as 10s',
        field: ['uploadInterval'],
        check: (c) => !new RegExp(ALL_ZERO).test(c.uploadInterval),
      },
      {
        cel: `!self.window.matches('${ALL_ZERO}')`,
        message: 'must be longer than zero, such as 7d',
        field: ['window'],
        check: (c) => !new RegExp(ALL_ZERO).test(c.window),
      },
    ],
  ),
).describe('Continuous protection: WAL streamed into the bucket, for point-in-time restore.');

/** `spec.continuous` after parsing. */
export type ContinuousSpec = z.output<typeof continuousSchema>;

/** What the receiver is doing, as `status.continuous.state` and the `Continuous` condition. */
export const CONTINUOUS_STATES = [
  /** Started, not yet streaming (finding the primary, making the slot, resuming). */
  'Starting',
  /** Streaming, and the bucket is within twice the upload interval of the primary. */
  'Streaming',
  /** Streaming, but the bucket is behind (a slow or unreachable bucket, a full spool). */
  'Lagging',
  /** WAL is missing from the bucket between two LSNs: see `gap`. */
  'Gap',
  /** The slot was invalidated or vanished: the primary may already have recycled WAL. */
  'SlotLost',
  /** No server of the target is a primary that answers. */
  'NoPrimary',
] as const;

export type ContinuousState = (typeof CONTINUOUS_STATES)[number];

/** `wal_status` of a replication slot (pg_replication_slots). */
export const SLOT_WAL_STATUSES = ['reserved', 'extended', 'unreserved', 'lost'] as const;

const lsn = (description: string) => z.string().regex(LSN_PATTERN).describe(description);

/** What the WAL receiver last reported, written by it to `status.continuous`. */
export const continuousStatusSchema = z
  .object({
    state: z.enum(CONTINUOUS_STATES).describe('What the receiver is doing.'),
    message: z.string().max(4096).optional().describe('What happened and what to do.'),
    timeline: z.int().min(1).optional().describe('Timeline being streamed.'),
    lastArchived: z
      .object({
        file: z.string().max(64).describe('Name of the newest WAL object in the bucket.'),
        lsn: lsn('End of the WAL that is in the bucket (completed and unfinished segments).'),
        time: timestamp('When it was stored.'),
      })
      .optional()
      .describe('The newest WAL in the bucket.'),
    lagBytes: z
      .int()
      .min(0)
      .optional()
      .describe("Bytes of WAL between the primary's current LSN and the bucket's end."),
    lagSeconds: z
      .number()
      .min(0)
      .optional()
      .describe(
        'Seconds since the bucket last caught up with the primary (0 while it is caught up).',
      ),
    spoolBytes: z
      .int()
      .min(0)
      .optional()
      .describe('WAL on the spool that is not yet in the bucket.'),
    slot: z
      .object({
        name: z
          .string()
          .max(63)
          .describe("The receiver's permanent physical slot (pgbackup_wal_ and 16 hex digits)."),
        walStatus: z.enum(SLOT_WAL_STATUSES).optional().describe('wal_status of the slot.'),
        retainedBytes: z.int().min(0).optional().describe('WAL the slot keeps on the primary.'),
      })
      .optional()
      .describe("The receiver's replication slot on the primary."),
    gap: z
      .object({
        timeline: z.int().min(1).describe('Timeline of the missing WAL.'),
        fromLsn: lsn('First missing LSN.'),
        toLsn: lsn('First LSN present again.'),
        detectedAt: timestamp('When the receiver found it.'),
      })
      .optional()
      .describe(
        'WAL missing from the bucket. Instants inside it cannot be restored; it clears once a binary backup that starts after it is committed.',
      ),
    heartbeatTime: timestamp('When the receiver last wrote this status.'),
  })
  .describe('Continuous protection as the WAL receiver last reported it.');

/** `status.continuous`. */
export type ContinuousStatus = z.output<typeof continuousStatusSchema>;

/** The name of the receiver's permanent slot; distinct from the binary runs' slot. */
export const WAL_SLOT_PREFIX = 'pgbackup_wal_';
