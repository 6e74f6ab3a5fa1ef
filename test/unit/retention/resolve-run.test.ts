import { describe, expect, it } from 'vitest';
import {
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
  startedAt: string,
  options: Partial<RetentionSchedule> = {},
): RunDecision {
  return resolveRun({
    schedule: { ...schedule, ...options },
    line,
    startedAtMs: Date.parse(startedAt),
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

  it('is skipped, with the reason, when the run starts later than the lateness', () => {
    const decision = run(daily, '2026-01-07T06:00:00Z', { latenessSeconds: 3600 });
    expect(decision).toEqual({
      ok: false,
      reason: 'TooLate',
      message:
        'the daily run was due at 2026-01-06 23:30 UTC and started 6h30m later, more than the lateness of 1h (spec.schedule.lateness); skipped so that it does not fill the wrong slot. Create an on-demand Backup to take one now',
    });
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
      startedAtMs: Date.parse('2026-10-26T00:30:00Z'),
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
      startedAtMs: Date.parse('2026-06-01T00:30:00Z'),
    });
    if (!first.ok) {
      throw new Error(first.message);
    }
    const extra = resolveRun({
      schedule: berlin,
      line: daily,
      startedAtMs: Date.parse('2026-06-01T01:30:00Z'),
      takenPeriods: [first.period],
    });
    expect(extra).toMatchObject({ ok: false, reason: 'PeriodTaken' });
  });

  it('is the same for both triggers of a doubled time of day', () => {
    const berlin = { timeZone: 'Europe/Berlin', time: { hour: 2, minute: 30 } };
    const first = run(daily, '2026-10-25T00:30:00Z', berlin);
    const second = run(daily, '2026-10-25T01:30:00Z', berlin);
    expect(first).toMatchObject({ ok: true, fireDate: { year: 2026, month: 10, day: 25 } });
    expect(second).toMatchObject({ ok: true, fireInstantMs: Date.parse('2026-10-25T00:30:00Z') });
  });
});
