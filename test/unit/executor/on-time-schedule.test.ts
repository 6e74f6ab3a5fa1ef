import { describe, expect, it } from 'vitest';
import { onTimeSchedule } from '../../e2e/on-time-schedule.js';

describe('a schedule on time for runs started now', () => {
  it('fires two minutes ago, on that weekday, in the policy time zone', () => {
    const now = Date.parse('2026-11-25T10:51:30Z'); // a Wednesday
    expect(onTimeSchedule(now)).toEqual({ time: '10:49', weekday: 'wednesday' });
    expect(onTimeSchedule(now, 'Europe/Berlin')).toEqual({ time: '11:49', weekday: 'wednesday' });
    expect(onTimeSchedule(now, 'Pacific/Kiritimati')).toEqual({
      time: '00:49',
      weekday: 'thursday',
    });
  });

  it('belongs to the day before when started in the first two minutes of a day', () => {
    expect(onTimeSchedule(Date.parse('2026-11-29T00:01:00Z'))).toEqual({
      time: '23:59',
      weekday: 'saturday',
    });
  });
});
