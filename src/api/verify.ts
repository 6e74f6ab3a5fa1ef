import * as z from 'zod';
import { closedObject, defaultToEmpty } from './fields.js';

/** How often a restore drill runs. */
export const VERIFY_SCHEDULES = ['never', 'daily', 'weekly', 'monthly'] as const;

/** Restore drills: proof that backups restore. */
export const verifySchema = defaultToEmpty(
  closedObject({
    schedule: z
      .enum(VERIFY_SCHEDULES)
      .default('never')
      .describe(
        "How often to run the restore drills: never, daily, weekly or monthly. With binary backups enabled, the newest binary backup is restored into a throwaway server and checked (pg_verifybackup, pg_amcheck); with continuous protection (spec.continuous) enabled as well, it is also restored with the bucket's WAL to the commit time of the second-newest transaction archived after it, and recovery must stop exactly there; with logical backups enabled, the newest logical backup's databases are restored with pg_restore and compared with their dumps' tables of contents. Off by default because a drill needs as much disk as the database.",
      ),
  }),
).describe('Restore drills, which prove that backups restore.');
