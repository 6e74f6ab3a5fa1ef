import { describe, expect, it } from 'vitest';
import { instantsOfWallTime, offsetMsAt } from '../../../src/retention/index.js';

const MINUTE_MS = 60_000;

describe('time zone arithmetic', () => {
  it('reads 30- and 45-minute offsets', () => {
    const instant = Date.UTC(2026, 0, 15, 12);
    const offsets = ['Asia/Kolkata', 'Asia/Kathmandu', 'Australia/Eucla', 'Pacific/Chatham'].map(
      (zone) => offsetMsAt(zone, instant) / MINUTE_MS,
    );
    expect(offsets).toEqual([330, 345, 525, 825]);
  });

  it('finds no instant for a wall time clocks spring forward over', () => {
    expect(instantsOfWallTime('Europe/Berlin', Date.UTC(2026, 2, 29, 2, 30))).toEqual([]);
    expect(instantsOfWallTime('Australia/Lord_Howe', Date.UTC(2026, 9, 4, 2, 10))).toEqual([]);
  });

  it('finds both instants of a wall time clocks fall back over, earliest first', () => {
    expect(instantsOfWallTime('Europe/Berlin', Date.UTC(2026, 9, 25, 2, 30))).toEqual([
      Date.UTC(2026, 9, 25, 0, 30),
      Date.UTC(2026, 9, 25, 1, 30),
    ]);
  });

  it('finds the one instant of an ordinary wall time', () => {
    expect(instantsOfWallTime('Asia/Kathmandu', Date.UTC(2026, 5, 1, 1, 0))).toEqual([
      Date.UTC(2026, 4, 31, 19, 15),
    ]);
  });
});
