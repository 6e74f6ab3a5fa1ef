import { describe, expect, it } from 'vitest';
import { describeTimeZoneProblem } from '../../../src/api/index.js';

describe('describeTimeZoneProblem', () => {
  it.each(['UTC', 'Europe/Berlin', 'America/Argentina/Salta', 'Asia/Kolkata', 'Etc/GMT+5'])(
    'accepts %s',
    (name) => {
      expect(describeTimeZoneProblem(name)).toBeUndefined();
    },
  );

  it('rejects a zone that does not exist', () => {
    expect(describeTimeZoneProblem('Mars/Olympus_Mons')).toMatch(/not a known IANA time zone/);
  });

  it('rejects a zone written in the wrong case and suggests the right one', () => {
    expect(describeTimeZoneProblem('europe/berlin')).toMatch(/did you mean "Europe\/Berlin"/);
    expect(describeTimeZoneProblem('utc')).toMatch(/did you mean "UTC"/);
  });
});
