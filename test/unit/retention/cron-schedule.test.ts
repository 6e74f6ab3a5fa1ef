import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type CronSchedule,
  cronScheduleOf,
  epochDayOf,
  fireInstantOf,
  isFireDay,
  periodOf,
  type RetentionLine,
  type RetentionSchedule,
  resolveRun,
} from '../../../src/retention/index.js';
import { arbitraryLine, arbitrarySchedule, arbitraryStart } from './arbitraries.js';
import { triggersOnDate } from './cron-triggers.js';

const MS_PER_DAY = 86_400_000;

const utc0100: RetentionSchedule = {
  timeZone: 'UTC',
  time: { hour: 1, minute: 0 },
  weekday: 'sunday',
  latenessSeconds: 6 * 3600,
};

describe('cronScheduleOf', () => {
  it('writes the schedule of each line, a superset of its fire days', () => {
    const schedules = (['daily', 'weekly', 'monthly', 'quarterly', 'yearly'] as const).map(
      (line) => cronScheduleOf({ schedule: utc0100, line }).schedule,
    );
    expect(schedules).toEqual([
      '0 1 * * *',
      '0 1 * * 0',
      '0 1 28-31 * *',
      '0 1 28-31 3,6,9,12 *',
      '0 1 31 12 *',
    ]);
  });

  it('names the policy time zone and the configured weekday', () => {
    const schedule = { ...utc0100, timeZone: 'Asia/Kathmandu', weekday: 'friday' } as const;
    expect(cronScheduleOf({ schedule, line: 'weekly' })).toEqual({
      schedule: '0 1 * * 5',
      timeZone: 'Asia/Kathmandu',
    });
  });

  it('adds the hour a line fires at on days its time of day is missing', () => {
    const berlin = { ...utc0100, timeZone: 'Europe/Berlin', time: { hour: 2, minute: 30 } };
    expect(cronScheduleOf({ schedule: berlin, line: 'daily' }).schedule).toBe('30 2,3 * * *');
    // No December 31 in Berlin has ever been a day the clocks sprang forward.
    expect(cronScheduleOf({ schedule: berlin, line: 'yearly' }).schedule).toBe('30 2 31 12 *');
    const troll = { ...utc0100, timeZone: 'Antarctica/Troll', time: { hour: 1, minute: 30 } };
    expect(cronScheduleOf({ schedule: troll, line: 'daily' }).schedule).toBe('30 1,3 * * *');
  });
});

interface DayCheck {
  readonly schedule: RetentionSchedule;
  readonly line: RetentionLine;
  readonly cronJob: CronSchedule;
  readonly epochDay: number;
  readonly takenPeriods: number[];
}

/**
 * Runs the gate at every trigger of the line's CronJob on a day, committing what it accepts;
 * returns the accepted triggers and the reasons the others were skipped for.
 */
function gateTriggersOn({ schedule, line, cronJob, epochDay, takenPeriods }: DayCheck) {
  const accepted: { instantMs: number; period: number }[] = [];
  const skipped = new Set<string>();
  for (const instantMs of triggersOnDate(cronJob, epochDay * MS_PER_DAY)) {
    const decision = resolveRun({ schedule, line, triggeredAtMs: instantMs, takenPeriods });
    if (decision.ok) {
      accepted.push({ instantMs, period: decision.period });
      takenPeriods.push(decision.period);
    } else {
      skipped.add(decision.reason);
    }
  }
  return { accepted, skipped: [...skipped] };
}

/** The CronJob fires on a fire day exactly once past the gate, at its fire instant. */
function expectGateOn(day: DayCheck): void {
  const { schedule, line, epochDay } = day;
  const calendar = { line: line.line, weekday: schedule.weekday };
  const { accepted, skipped } = gateTriggersOn(day);
  const fireDay = isFireDay(calendar, epochDay);
  const fireMs = fireDay ? fireInstantOf(schedule, epochDay) : undefined;
  const expected =
    fireMs === undefined ? [] : [{ instantMs: fireMs, period: periodOf(calendar, epochDay) }];
  const context = `day ${epochDay} of ${JSON.stringify({ schedule, line })}`;
  expect(accepted, context).toEqual(expected);
  // Extra triggers on a fire day find their period taken; other days are not fire days.
  expect(skipped, context).toEqual(
    skipped.length === 0 ? [] : [fireDay ? 'PeriodTaken' : 'NotFireDay'],
  );
}

describe("a line's CronJob and the gate together", () => {
  it('fire on every fire day at its fire instant, once, and on no other day (the gate)', () => {
    fc.assert(
      fc.property(
        arbitrarySchedule,
        arbitraryLine,
        arbitraryStart,
        fc.integer({ min: 2, max: 4 }),
        (schedule, line, start, years) => {
          const first = epochDayOf(start);
          const last = epochDayOf({ ...start, year: start.year + years });
          const cronJob = cronScheduleOf({ schedule, line: line.line });
          const takenPeriods: number[] = [];
          for (let epochDay = first; epochDay <= last; epochDay += 1) {
            expectGateOn({ schedule, line, cronJob, epochDay, takenPeriods });
          }
        },
      ),
      { numRuns: 30 },
    );
  }, 60_000);
});
