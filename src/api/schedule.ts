import * as z from 'zod';
import { withRules } from './cross-field-rule.js';
import { DURATION_PATTERN, parseDurationSeconds } from './duration.js';
import { closedObject, defaultToEmpty } from './fields.js';

/** Days a weekly line can fire on. */
export const WEEKDAYS = [
  'sunday',
  'monday',
  'tuesday',
  'wednesday',
  'thursday',
  'friday',
  'saturday',
] as const;

/** One of {@link WEEKDAYS}. */
export type Weekday = (typeof WEEKDAYS)[number];

/** A 24-hour time of day, `HH:MM`. */
export const TIME_OF_DAY_PATTERN = /^([01][0-9]|2[0-3]):[0-5][0-9]$/;

const lateness = withRules(
  z.string().max(15, { abort: true }).regex(DURATION_PATTERN, {
    error: 'must be a duration in hours, minutes and seconds, such as "6h", "30m" or "1h30m"',
    // The positivity rule below only makes sense for a well-formed duration.
    abort: true,
  }),
  [
    {
      // A duration that matches the pattern is positive exactly when it has a non-zero digit.
      cel: "self.matches('[1-9]')",
      message: 'must be longer than zero',
      check: (text) => (parseDurationSeconds(text) ?? 0) > 0,
    },
  ],
);

/** When the lines fire, in the policy's time zone. */
export const scheduleSchema = defaultToEmpty(
  closedObject({
    time: z
      .string()
      .regex(TIME_OF_DAY_PATTERN, { error: 'must be a 24-hour time of day HH:MM, such as "01:30"' })
      .default('01:00')
      .describe(
        'Time of day, HH:MM on a 24-hour clock in spec.timeZone, at which every line fires on its days.',
      ),
    weekday: z
      .enum(WEEKDAYS)
      .default('sunday')
      .describe('Day of the week the weekly line fires on, in lowercase (sunday…saturday).'),
    lateness: lateness
      .default('6h')
      .describe(
        'How late a run may be triggered after its fire time, e.g. "6h", "30m" or "1h30m" (hours, minutes, seconds). The trigger is the time the CronJob scheduled the run\'s Job for (a Job made by hand: its creation); time spent waiting for another run of the policy does not count. A run triggered later takes no backup (it would fill the wrong slot) and is recorded Failed.',
      ),
  }),
).describe('When backups are taken. Every line fires at the same time of day on its own days.');
