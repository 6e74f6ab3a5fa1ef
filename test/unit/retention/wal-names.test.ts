import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  formatLsn,
  historyFileName,
  parseLsn,
  parseTimelineHistory,
  parseWalFileName,
  DEFAULT_WAL_SEGMENT_SIZE as SIZE,
  segmentFileName,
  segmentOf,
  segmentStartLsn,
} from '../../../src/retention/index.js';

describe('WAL names', () => {
  it('reads and prints LSNs as PostgreSQL does', () => {
    expect(parseLsn('16/B374D848')).toBe(0x16b374d848n);
    expect(formatLsn(0x16b374d848n)).toBe('16/B374D848');
    expect(formatLsn(0n)).toBe('0/0');
    expect(parseLsn('0/')).toBeUndefined();
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), (lsn) => {
        expect(parseLsn(formatLsn(lsn))).toBe(lsn);
      }),
    );
  });

  it('names segments as the server does, 256 per xlog id at 16 MiB', () => {
    expect(segmentFileName(1, 3n, SIZE)).toBe('000000010000000000000003');
    expect(segmentFileName(2, 256n + 0xffn, SIZE)).toBe('0000000200000001000000FF');
    expect(segmentOf(parseLsn('1/FF000028') ?? 0n, SIZE)).toBe(511n);
    expect(segmentStartLsn(511n, SIZE)).toBe(parseLsn('1/FF000000'));
    expect(segmentFileName(1, 65n, 64 * 1024 * 1024)).toBe('000000010000000100000001');
  });

  it('reads the names pg_receivewal writes and refuses others', () => {
    expect(parseWalFileName('0000000200000001000000FF.zst.partial', SIZE)).toEqual({
      kind: 'segment',
      name: '0000000200000001000000FF.zst.partial',
      segmentName: '0000000200000001000000FF',
      timeline: 2,
      segment: 511n,
      compression: 'zstd',
      partial: true,
    });
    expect(parseWalFileName('000000010000000000000003', SIZE)).toMatchObject({
      compression: 'none',
      partial: false,
    });
    expect(parseWalFileName('00000002.history', SIZE)).toEqual({
      kind: 'history',
      name: '00000002.history',
      timeline: 2,
    });
    expect(historyFileName(10)).toBe('0000000A.history');
    for (const other of [
      '000000010000000000000003.00000028.backup',
      '000000000000000000000003',
      '000000010000000000000100',
      '00000001.history',
      'manifest.json',
    ]) {
      expect(parseWalFileName(other, SIZE)).toBeUndefined();
    }
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 0xffff }),
        fc.bigInt({ min: 0n, max: 2n ** 40n - 1n }),
        (timeline, segment) => {
          const name = segmentFileName(timeline, segment, SIZE);
          expect(parseWalFileName(`${name}.gz`, SIZE)).toMatchObject({ timeline, segment });
        },
      ),
    );
  });

  it('reads timeline history files', () => {
    const text = '1\t0/3000158\tno recovery target specified\n\n2\t0/5000000\tat restore point\n';
    expect(parseTimelineHistory(text)).toEqual([
      { parentTimeline: 1, switchLsn: 0x3000158n, reason: 'no recovery target specified' },
      { parentTimeline: 2, switchLsn: 0x5000000n, reason: 'at restore point' },
    ]);
    expect(() => parseTimelineHistory('x\ty\n')).toThrow(/not a timeline history line/);
  });
});
