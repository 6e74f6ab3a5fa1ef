import * as z from 'zod';
import { withRules } from './cross-field-rule.js';
import { closedObject, defaultToEmpty, setOf } from './fields.js';
import { LOGICAL_LINES } from './lines.js';
import { anyLineSet, logicalLinesSchema } from './retention-lines.js';

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
      fallbackToPrimary: z
        .boolean()
        .default(false)
        .describe(
          'Dump the primary when no replica is available. Off by default so a backup never adds load to the primary unasked; without a replica the run fails and says so.',
        ),
    }),
    [
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
