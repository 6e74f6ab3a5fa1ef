/** fast-check generators shared by the retention properties. */
import fc from 'fast-check';
import { BINARY_LINES, type LineName, WEEKDAYS } from '../../../src/api/index.js';
import type { LocalDate, RetentionLine, RetentionSchedule } from '../../../src/retention/index.js';

/**
 * Zones chosen for their quirks: none; DST at 01:00, 02:00 and midnight (Santiago, Havana,
 * Beirut); southern hemisphere; a 30-minute DST (Lord_Howe); a 2-hour DST (Troll); negative DST
 * in the zone database (Dublin); 30- and 45-minute offsets with and without DST (Kolkata,
 * Kathmandu, Eucla, Adelaide, St_Johns, Chatham, Tehran); Ramadan suspensions (Casablanca).
 */
export const QUIRKY_ZONES = [
  'UTC',
  'Europe/Berlin',
  'Europe/London',
  'Europe/Dublin',
  'America/New_York',
  'America/Santiago',
  'America/Havana',
  'America/St_Johns',
  'Asia/Beirut',
  'Asia/Kolkata',
  'Asia/Kathmandu',
  'Asia/Tehran',
  'Australia/Eucla',
  'Australia/Adelaide',
  'Australia/Lord_Howe',
  'Pacific/Chatham',
  'Antarctica/Troll',
  'Africa/Casablanca',
] as const;

/** Zones whose clocks spring forward, with a time of day that is sometimes missing there. */
export const DST_TIMES = [
  { timeZone: 'Europe/Berlin', hour: 2, minute: 30 },
  { timeZone: 'America/New_York', hour: 2, minute: 0 },
  { timeZone: 'Europe/London', hour: 1, minute: 15 },
  { timeZone: 'America/Santiago', hour: 0, minute: 0 },
  { timeZone: 'Australia/Lord_Howe', hour: 2, minute: 10 },
  { timeZone: 'Antarctica/Troll', hour: 1, minute: 30 },
] as const;

const arbitraryZonedTime = fc.oneof(
  fc.record({
    timeZone: fc.constantFrom(...QUIRKY_ZONES),
    hour: fc.integer({ min: 0, max: 23 }),
    minute: fc.constantFrom(0, 5, 15, 30, 45, 59),
  }),
  fc.constantFrom(...DST_TIMES),
);

/** A schedule in a quirky zone, often at a time of day that DST makes missing or doubled. */
export const arbitrarySchedule: fc.Arbitrary<RetentionSchedule> = fc
  .record({
    zoned: arbitraryZonedTime,
    weekday: fc.constantFrom(...WEEKDAYS),
    latenessSeconds: fc.integer({ min: 60, max: 23 * 3600 }),
  })
  .map(({ zoned, weekday, latenessSeconds }) => ({
    timeZone: zoned.timeZone,
    time: { hour: zoned.hour, minute: zoned.minute },
    weekday,
    latenessSeconds,
  }));

/** A line and a keep, kept small so that property runs reach their warm-up quickly. */
export const arbitraryLine: fc.Arbitrary<RetentionLine> = fc.record({
  line: fc.constantFrom<LineName>(...BINARY_LINES),
  keep: fc.integer({ min: 1, max: 9 }),
});

/** A first day of a range, between 1971 and 2095 (inside the span the CronJob accounts for). */
export const arbitraryStart: fc.Arbitrary<LocalDate> = fc.record({
  year: fc.integer({ min: 1971, max: 2095 }),
  month: fc.integer({ min: 1, max: 12 }),
  day: fc.integer({ min: 1, max: 28 }),
});
