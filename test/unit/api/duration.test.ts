import { describe, expect, it } from 'vitest';
import { parseDurationSeconds } from '../../../src/api/index.js';

describe('parseDurationSeconds', () => {
  it.each([
    ['6h', 21_600],
    ['30m', 1_800],
    ['90s', 90],
    ['1h30m', 5_400],
    ['1h30m15s', 5_415],
    ['2h15s', 7_215],
    ['0s', 0],
  ])('reads %s as %i seconds', (text, seconds) => {
    expect(parseDurationSeconds(text)).toBe(seconds);
  });

  it.each(['', '6', 'h', '1d', '1.5h', '30m1h', '6 h', '-1h', '1h1h', ' 6h', '6H', '100000s'])(
    'rejects %j',
    (text) => {
      expect(parseDurationSeconds(text)).toBeUndefined();
    },
  );
});
