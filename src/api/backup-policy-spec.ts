import * as z from 'zod';
import { binarySchema } from './binary.js';
import { continuousSchema } from './continuous.js';
import { withRules } from './cross-field-rule.js';
import { closedObject } from './fields.js';
import { jobTemplateSchema } from './job-template.js';
import { logicalSchema } from './logical.js';
import { runnerReferenceRules } from './runner-secrets.js';
import { scheduleSchema } from './schedule.js';
import { storageSchema } from './storage.js';
import { targetSchema } from './target.js';
import { describeTimeZoneProblem, TIME_ZONE_PATTERN } from './time-zone.js';
import { verifySchema } from './verify.js';

const timeZone = z
  .string()
  .max(64)
  .regex(TIME_ZONE_PATTERN, {
    error: 'must be an IANA time zone name such as "UTC" or "Europe/Berlin"',
    abort: true,
  })
  // CEL has no time zone database, so only zod (the controller and the CLI) can tell a real
  // zone from a well-formed name; the controller reports it as a condition.
  .superRefine((name, context) => {
    const problem = describeTimeZoneProblem(name);
    if (problem !== undefined) {
      context.addIssue({ code: 'custom', message: problem, input: name });
    }
  })
  .default('UTC')
  .describe(
    'IANA time zone, such as "Europe/Berlin", in which days, weekdays, month ends and spec.schedule.time are reckoned.',
  );

/** The desired backup plan of one PostgreSQL cluster. */
export const backupPolicySpecSchema = withRules(
  closedObject({
    timeZone,
    target: targetSchema,
    schedule: scheduleSchema,
    binary: binarySchema,
    logical: logicalSchema,
    continuous: continuousSchema,
    storage: storageSchema.optional(),
    verify: verifySchema,
    suspend: z
      .boolean()
      .default(false)
      .describe('Pause every scheduled backup of this policy; runs already started finish.'),
    jobTemplate: jobTemplateSchema,
  }),
  [
    {
      cel: '!(self.binary.enabled || self.logical.enabled) || has(self.storage)',
      message: 'storage.s3 is required while binary or logical backups are enabled',
      field: ['storage'],
      reason: 'FieldValueRequired',
      check: (spec) => !(spec.binary.enabled || spec.logical.enabled) || spec.storage !== undefined,
    },
    {
      cel: '!self.continuous.enabled || has(self.storage)',
      message:
        'storage.s3 is required while continuous protection is enabled: WAL goes to the bucket',
      field: ['storage'],
      reason: 'FieldValueRequired',
      check: (spec) => !spec.continuous.enabled || spec.storage !== undefined,
    },
    {
      cel: '!self.continuous.enabled || self.binary.enabled',
      message:
        'continuous protection needs binary backups (set binary.enabled: true): WAL restores only on top of a binary backup',
      field: ['continuous', 'enabled'],
      check: (spec) => !spec.continuous.enabled || spec.binary.enabled,
    },
    ...runnerReferenceRules,
  ],
).describe('The backup plan: what to back up, when, how long to keep it and where to store it.');

/** A policy's spec after parsing: every default applied, `lines` holding exactly the enabled lines. */
export type BackupPolicySpec = z.output<typeof backupPolicySpecSchema>;

/** A policy's spec as a person writes it, defaults optional. */
export type BackupPolicySpecInput = z.input<typeof backupPolicySpecSchema>;
