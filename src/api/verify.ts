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
        'How often to restore the newest binary backup into a throwaway server and check it (pg_verifybackup, pg_amcheck): never, daily, weekly or monthly. Off by default because a drill needs as much disk as the database.',
      ),
  }),
).describe('Restore drills, which prove that backups restore.');
