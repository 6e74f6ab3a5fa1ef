/**
 * An independent model of the CronJob controller for the tests: a five-field cron schedule in
 * a time zone fires at every instant whose wall-clock time matches it. That is what
 * robfig/cron's `SpecSchedule.Next` (used by the CronJob controller) computes: it never fires
 * at a wall time that clocks spring forward over and fires at both occurrences of one they fall
 * back over. It uses only `Intl` formatting, not the engine's zone arithmetic.
 */

interface CronFields {
  readonly minutes: ReadonlySet<number>;
  readonly hours: ReadonlySet<number>;
  readonly daysOfMonth: ReadonlySet<number> | undefined;
  readonly months: ReadonlySet<number> | undefined;
  readonly daysOfWeek: ReadonlySet<number> | undefined;
}

function parseField(field: string): ReadonlySet<number> | undefined {
  if (field === '*') {
    return undefined;
  }
  const values = new Set<number>();
  for (const part of field.split(',')) {
    const [low, high] = part.split('-').map(Number);
    if (low === undefined || Number.isNaN(low)) {
      throw new Error(`unsupported cron field "${field}"`);
    }
    for (let value = low; value <= (high ?? low); value += 1) {
      values.add(value);
    }
  }
  return values;
}

function parseCron(schedule: string): CronFields {
  const fields = schedule.split(' ');
  if (fields.length !== 5) {
    throw new Error(`not a five-field cron schedule: "${schedule}"`);
  }
  const [minute, hour, dayOfMonth, month, dayOfWeek] = fields.map(parseField);
  if (minute === undefined || hour === undefined) {
    throw new Error(`the tests expect fixed minutes and hours: "${schedule}"`);
  }
  return {
    minutes: minute,
    hours: hour,
    daysOfMonth: dayOfMonth,
    months: month,
    daysOfWeek: dayOfWeek,
  };
}

/** robfig/cron's rule: day-of-month and day-of-week are ANDed if either is `*`, else ORed. */
function dayMatches(fields: CronFields, date: Date): boolean {
  if (fields.months !== undefined && !fields.months.has(date.getUTCMonth() + 1)) {
    return false;
  }
  const dom = fields.daysOfMonth?.has(date.getUTCDate()) ?? true;
  const dow = fields.daysOfWeek?.has(date.getUTCDay()) ?? true;
  if (fields.daysOfMonth === undefined || fields.daysOfWeek === undefined) {
    return dom && dow;
  }
  return dom || dow;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function wallOf(timeZone: string, instantMs: number): number {
  let formatter = formatters.get(timeZone);
  if (formatter === undefined) {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    formatters.set(timeZone, formatter);
  }
  const parts = Object.fromEntries(
    formatter.formatToParts(instantMs).map((part) => [part.type, Number(part.value)]),
  );
  return Date.UTC(
    parts.year ?? 0,
    (parts.month ?? 1) - 1,
    parts.day ?? 1,
    parts.hour ?? 0,
    parts.minute ?? 0,
    parts.second ?? 0,
  );
}

const HOUR_MS = 3_600_000;

/** A cron schedule and the zone it is read in, as a CronJob's spec holds them. */
export interface CronJobSchedule {
  readonly schedule: string;
  readonly timeZone: string;
}

/**
 * The instants, earliest first, at which the CronJob fires on a local date (given as the UTC
 * midnight of that date).
 */
export function triggersOnDate(cronJob: CronJobSchedule, utcMidnightMs: number): number[] {
  const fields = parseCron(cronJob.schedule);
  if (!dayMatches(fields, new Date(utcMidnightMs))) {
    return [];
  }
  // Every offset in use from the day before to the day after, sampled every six hours.
  const offsets = new Set<number>();
  for (
    let sample = utcMidnightMs - 24 * HOUR_MS;
    sample <= utcMidnightMs + 48 * HOUR_MS;
    sample += 6 * HOUR_MS
  ) {
    offsets.add(wallOf(cronJob.timeZone, sample) - sample);
  }
  const triggers = new Set<number>();
  for (const hour of fields.hours) {
    for (const minute of fields.minutes) {
      const wall = utcMidnightMs + hour * HOUR_MS + minute * 60_000;
      for (const offset of offsets) {
        if (wallOf(cronJob.timeZone, wall - offset) === wall) {
          triggers.add(wall - offset);
        }
      }
    }
  }
  return [...triggers].sort((left, right) => left - right);
}
