import { describe, expect, it } from 'vitest';
import {
  decideTrigger,
  type RetentionLine,
  type RetentionSchedule,
  type RunDecision,
  resolveRun,
} from '../../../src/retention/index.js';

const schedule: RetentionSchedule = {
  timeZone: 'UTC',
  time: { hour: 23, minute: 30 },
  weekday: 'sunday',
  latenessSeconds: 6 * 3600,
};
const daily: RetentionLine = { line: 'daily', keep: 7 };
const monthly: RetentionLine = { line: 'monthly', keep: 3 };

function run(
  line: RetentionLine,
  triggeredAt: string,
  options: Partial<RetentionSchedule> = {},
): RunDecision {
  return resolveRun({
    schedule: { ...schedule, ...options },
    line,
    triggeredAtMs: Date.parse(triggeredAt),
  });
}

describe('the period of a run', () => {
  it('is the fire it was triggered by', () => {
    expect(run(daily, '2026-01-06T23:30:00Z')).toMatchObject({
      ok: true,
      period: 20_459,
      slot: 5,
      label: 'tue',
      fireDate: { year: 2026, month: 1, day: 6 },
    });
  });

  it('stays with the previous day when a run waited past midnight', () => {
    expect(run(daily, '2026-01-07T00:45:00Z')).toMatchObject({
      ok: true,
      fireDate: { year: 2026, month: 1, day: 6 },
    });
  });

  it('is refused, with the reason, when the run was triggered later than the lateness', () => {
    const decision = run(daily, '2026-01-07T06:00:00Z', { latenessSeconds: 3600 });
    expect(decision).toEqual({
      ok: false,
      reason: 'TooLate',
      message:
        'the daily run was due at 2026-01-06 23:30 UTC and was triggered 6h30m later, more than the lateness of 1h (spec.schedule.lateness); it takes no backup, so that none fills the wrong slot',
    });
  });

  it('is refused as too late before the catalog is read, even when its period is taken', () => {
    const trigger = { schedule: { ...schedule, latenessSeconds: 3600 }, line: daily };
    const late = Date.parse('2026-01-07T06:00:00Z');
    expect(decideTrigger({ ...trigger, triggeredAtMs: late })).toMatchObject({ reason: 'TooLate' });
    const onTime = decideTrigger({ ...trigger, triggeredAtMs: Date.parse('2026-01-06T23:30:00Z') });
    if (!onTime.ok) throw new Error(onTime.message);
    expect(
      resolveRun({ ...trigger, triggeredAtMs: late, takenPeriods: [onTime.period] }),
    ).toMatchObject({ reason: 'TooLate' });
  });

  it('is skipped on the 28th to 30th when they are not the last day of the month', () => {
    const decision = run(monthly, '2026-04-29T23:30:00Z');
    expect(decision).toEqual({
      ok: false,
      reason: 'NotFireDay',
      message:
        '2026-04-29 (UTC) is not a fire day of the monthly line, which fires on the last day of each month; nothing to do',
    });
    expect(run(monthly, '2026-04-30T23:30:00Z')).toMatchObject({ ok: true, label: 'apr' });
  });

  it('is skipped when its period already has a committed backup', () => {
    const first = run(daily, '2026-10-25T23:30:00Z');
    if (!first.ok) {
      throw new Error(first.message);
    }
    const again = resolveRun({
      schedule,
      line: daily,
      triggeredAtMs: Date.parse('2026-10-26T00:30:00Z'),
      takenPeriods: [first.period],
    });
    expect(again).toMatchObject({ ok: false, reason: 'PeriodTaken' });
  });

  it('says the period is taken, not that the run is late, for the extra trigger of an hour later', () => {
    const berlin: RetentionSchedule = {
      ...schedule,
      timeZone: 'Europe/Berlin',
      time: { hour: 2, minute: 30 },
      latenessSeconds: 1800,
    };
    const first = resolveRun({
      schedule: berlin,
      line: daily,
      triggeredAtMs: Date.parse('2026-06-01T00:30:00Z'),
    });
    if (!first.ok) {
      throw new Error(first.message);
    }
    const extra = resolveRun({
      schedule: berlin,
      line: daily,
      triggeredAtMs: Date.parse('2026-06-01T01:30:00Z'),
      takenPeriods: [first.period],
    });
    expect(extra).toMatchObject({ ok: false, reason: 'PeriodTaken' });
  });

  it("accepts the CronJob's extra trigger of an hour later however short the lateness, so the catalog decides", () => {
    const berlin: RetentionSchedule = {
      ...schedule,
      timeZone: 'Europe/Berlin',
      time: { hour: 2, minute: 30 },
      latenessSeconds: 1800,
    };
    // 03:30 CEST: the hour the line fires at on the day clocks spring forward, listed every day.
    const extra = decideTrigger({
      schedule: berlin,
      line: daily,
      triggeredAtMs: Date.parse('2026-06-01T01:30:00Z'),
    });
    expect(extra).toMatchObject({ ok: true, fireInstantMs: Date.parse('2026-06-01T00:30:00Z') });
    // A Job made by hand a minute later is no trigger of the CronJob's: it is late.
    const byHand = decideTrigger({
      schedule: berlin,
      line: daily,
      triggeredAtMs: Date.parse('2026-06-01T01:31:00Z'),
    });
    expect(byHand).toMatchObject({ ok: false, reason: 'TooLate' });
  });

  it('is the same for both triggers of a doubled time of day', () => {
    const berlin = { timeZone: 'Europe/Berlin', time: { hour: 2, minute: 30 } };
    const first = run(daily, '2026-10-25T00:30:00Z', berlin);
    const second = run(daily, '2026-10-25T01:30:00Z', berlin);
    expect(first).toMatchObject({ ok: true, fireDate: { year: 2026, month: 10, day: 25 } });
    expect(second).toMatchObject({ ok: true, fireInstantMs: Date.parse('2026-10-25T00:30:00Z') });
  });
});
