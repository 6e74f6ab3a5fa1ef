import { describe, expect, it } from 'vitest';
import { epochDayOf, type FireSchedule, fireInstantOf } from '../../../src/retention/index.js';

function fireOn(timeZone: string, time: string, date: string): string | undefined {
  const [hour, minute] = time.split(':').map(Number);
  const [year, month, day] = date.split('-').map(Number);
  const schedule: FireSchedule = {
    timeZone,
    time: { hour: hour ?? 0, minute: minute ?? 0 },
    weekday: 'sunday',
  };
  const instant = fireInstantOf(
    schedule,
    epochDayOf({ year: year ?? 0, month: month ?? 0, day: day ?? 0 }),
  );
  return instant === undefined ? undefined : new Date(instant).toISOString();
}

describe('fire instants', () => {
  it('are the time of day in the policy time zone, 30- and 45-minute offsets included', () => {
    expect(fireOn('UTC', '01:00', '2026-06-01')).toBe('2026-06-01T01:00:00.000Z');
    expect(fireOn('Asia/Kolkata', '01:00', '2026-06-01')).toBe('2026-05-31T19:30:00.000Z');
    expect(fireOn('Asia/Kathmandu', '01:00', '2026-06-01')).toBe('2026-05-31T19:15:00.000Z');
    expect(fireOn('Australia/Eucla', '23:59', '2026-12-31')).toBe('2026-12-31T15:14:00.000Z');
  });

  it('move a missing time of day to the first later hour where its minute exists', () => {
    // Berlin springs from 02:00 to 03:00: 02:30 becomes 03:30 CEST.
    expect(fireOn('Europe/Berlin', '02:30', '2026-03-29')).toBe('2026-03-29T01:30:00.000Z');
    expect(fireOn('America/New_York', '02:00', '2026-03-08')).toBe('2026-03-08T07:00:00.000Z');
    // Lord Howe springs from 02:00 to 02:30: 02:10 becomes 03:10 (+11:00), not 02:40.
    expect(fireOn('Australia/Lord_Howe', '02:10', '2026-10-04')).toBe('2026-10-03T16:10:00.000Z');
    // Santiago springs from midnight to 01:00.
    expect(fireOn('America/Santiago', '00:30', '2026-09-06')).toBe('2026-09-06T04:30:00.000Z');
  });

  it('take the first occurrence of a doubled time of day', () => {
    expect(fireOn('Europe/Berlin', '02:30', '2026-10-25')).toBe('2026-10-25T00:30:00.000Z');
    expect(fireOn('America/New_York', '01:30', '2026-11-01')).toBe('2026-11-01T05:30:00.000Z');
  });

  it('do not exist on a date the zone skipped', () => {
    expect(fireOn('Pacific/Apia', '01:00', '2011-12-30')).toBeUndefined();
    expect(fireOn('Pacific/Apia', '01:00', '2011-12-31')).toBe('2011-12-30T11:00:00.000Z');
  });
});
