import * as z from 'zod';
import { compressionLevelField, levelRules } from './compression-settings.js';
import { withRules } from './cross-field-rule.js';
import { closedObject, defaultToEmpty, setOf } from './fields.js';
import { LOGICAL_LINES } from './lines.js';
import { anyLineSet, logicalLinesSchema } from './retention-lines.js';

/** Compression of pg_dump's custom format; zstd and lz4 need pg_dump 16 or newer. */
export const LOGICAL_COMPRESSIONS = ['gzip', 'zstd', 'lz4', 'none'] as const;

/** Logical backups: pg_dump of a replica. */
export const logicalSchema = defaultToEmpty(
  withRules(
    closedObject({
      enabled: z
        .boolean()
        .default(true)
        .describe('Take logical backups (pg_dump of each database, plus globals, from a replica).'),
      lines: logicalLinesSchema,
      databases: setOf(z.string().min(1).max(63).describe('A database name.'), 256)
        .default([])
        .describe(
          'Databases to dump. Empty: every database that accepts connections, except templates.',
        ),
      compression: z
        .enum(LOGICAL_COMPRESSIONS)
        .default('gzip')
        .describe(
          "Compression inside each custom-format dump: gzip (pg_dump's default, every version), zstd or lz4 (pg_dump 16 or newer: a run of a PostgreSQL 15 server refuses them), or none.",
        ),
      compressionLevel: compressionLevelField(
        "Level of spec.logical.compression: gzip 1-9, lz4 1-12, zstd -7 to -1 or 1 to 22 (higher: smaller and slower). Omitted: pg_dump's default.",
      ),
      fallbackToPrimary: z
        .boolean()
        .default(false)
        .describe(
          'Dump the primary when no replica is available. Off by default so a backup never adds load to the primary unasked; without a replica the run fails and says so.',
        ),
    }),
    [
      ...levelRules(),
      {
        cel: `!self.enabled || ${anyLineSet(LOGICAL_LINES)}`,
        message: 'must list at least one line while logical backups are enabled',
        field: ['lines'],
        check: (logical) => !logical.enabled || Object.keys(logical.lines).length > 0,
      },
    ],
  ),
).describe(
  'Logical backups: pg_dump of each database from the most caught-up replica, which restores single databases and crosses major versions.',
);
