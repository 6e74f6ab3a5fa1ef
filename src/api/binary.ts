import * as z from 'zod';
import {
  compressionLevelField,
  compressionWorkersField,
  levelRules,
  workersRule,
} from './compression-settings.js';
import { withRules } from './cross-field-rule.js';
import { closedObject, defaultToEmpty, keepCount, objectName } from './fields.js';
import { BINARY_LINES } from './lines.js';
import { anyLineSet, binaryLinesSchema } from './retention-lines.js';

/** Compression applied to the pg_basebackup tar stream. */
export const COMPRESSIONS = ['zstd', 'gzip', 'lz4', 'none'] as const;

/** Checkpoint modes of pg_basebackup. */
export const CHECKPOINT_MODES = ['spread', 'fast'] as const;

const localCopy = closedObject({
  claimName: objectName(
    "Name of the PersistentVolumeClaim, in the policy's namespace, that holds the local copies. Use a volume separate from the database's own.",
  ),
  keep: keepCount('Daily local copies kept (default 7, one week).').default(7),
}).describe(
  'Also keep the daily binary backups on a local volume, written from the same stream as the remote copy (not a second read of the database). Needs binary backups enabled with a daily line.',
);

/** Binary backups: pg_basebackup of the primary. */
export const binarySchema = defaultToEmpty(
  withRules(
    closedObject({
      enabled: z
        .boolean()
        .default(true)
        .describe('Take binary backups (pg_basebackup of the primary).'),
      lines: binaryLinesSchema,
      compression: z
        .enum(COMPRESSIONS)
        .default('zstd')
        .describe('Compression of the backup stream: zstd, gzip, lz4 or none.'),
      compressionLevel: compressionLevelField(
        "Level of spec.binary.compression: gzip 1-9, lz4 1-12, zstd -7 to -1 or 1 to 22 (higher: smaller and slower). Omitted: the tool's default (zstd 3, gzip 6, lz4 1).",
      ),
      compressionWorkers: compressionWorkersField(
        'zstd only: threads compressing beside the one reading the server (pg_basebackup 15+, client-zstd:workers=N), 1 to 64. Omitted: compression on the reading thread. Up to the cores the runner may use.',
      ),
      checkpoint: z
        .enum(CHECKPOINT_MODES)
        .default('spread')
        .describe(
          'Checkpoint at the start of a backup: spread (gentle on the server, may delay the start by minutes) or fast (starts at once, with a burst of writes).',
        ),
      local: localCopy.optional(),
    }),
    [
      ...levelRules(),
      workersRule(),
      {
        cel: `!self.enabled || ${anyLineSet(BINARY_LINES)}`,
        message: 'must list at least one line while binary backups are enabled',
        field: ['lines'],
        check: (binary) => !binary.enabled || Object.keys(binary.lines).length > 0,
      },
      {
        cel: '!has(self.local) || (self.enabled && has(self.lines.daily))',
        message: 'a local copy needs binary backups enabled with a daily line',
        field: ['local'],
        check: (binary) =>
          binary.local === undefined || (binary.enabled && binary.lines.daily !== undefined),
      },
    ],
  ),
).describe('Binary backups: pg_basebackup of the primary, which restores a whole server.');
