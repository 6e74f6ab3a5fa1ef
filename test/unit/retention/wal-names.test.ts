import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ENCRYPTED_SUFFIX,
  formatLsn,
  formatTimelineSwitches,
  historyFileName,
  parseLsn,
  parseTimelineHistory,
  parseTimelineSwitches,
  parseWalFileName,
  DEFAULT_WAL_SEGMENT_SIZE as SIZE,
  segmentFileName,
  segmentOf,
  segmentStartLsn,
  type WalCompression,
  walObjectName,
} from '../../../src/retention/index.js';
import { TIMELINE_SWITCHES_METADATA_BYTES } from '../../../src/retention/wal-names.js';

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
      encrypted: false,
    });
    expect(parseWalFileName('000000010000000000000003', SIZE)).toMatchObject({
      compression: 'none',
      partial: false,
    });
    expect(parseWalFileName('00000002.history', SIZE)).toEqual({
      kind: 'history',
      name: '00000002.history',
      timeline: 2,
      compression: 'none',
      encrypted: false,
    });
    expect(historyFileName(10)).toBe('0000000A.history');
    for (const other of [
      '000000010000000000000003.00000028.backup',
      '000000000000000000000003',
      '000000010000000000000100',
      '00000001.history',
      'manifest.json',
      // `.age` goes last, once: not before the compression or `.partial`, never twice.
      '000000010000000000000003.age.zst',
      '000000010000000000000003.zst.age.partial',
      '000000010000000000000003.zst.age.age',
      '00000002.age.history',
      '000000010000000000000003.00000028.backup.age',
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

  it('reads the `.age` of an encrypted object after every other suffix, for every kind', () => {
    expect(parseWalFileName('0000000200000001000000FF.zst.partial.age', SIZE)).toEqual({
      kind: 'segment',
      name: '0000000200000001000000FF.zst.partial.age',
      segmentName: '0000000200000001000000FF',
      timeline: 2,
      segment: 511n,
      compression: 'zstd',
      partial: true,
      encrypted: true,
    });
    expect(parseWalFileName('000000010000000000000003.age', SIZE)).toMatchObject({
      kind: 'segment',
      compression: 'none',
      partial: false,
      encrypted: true,
    });
    expect(parseWalFileName('000000010000000000000003.lz4.age', SIZE)).toMatchObject({
      compression: 'lz4',
      partial: false,
      encrypted: true,
    });
    expect(parseWalFileName('00000002.history.age', SIZE)).toEqual({
      kind: 'history',
      name: '00000002.history.age',
      timeline: 2,
      compression: 'none',
      encrypted: true,
    });
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 0xffff }),
        fc.bigInt({ min: 0n, max: 2n ** 40n - 1n }),
        fc.record({
          compression: fc.constantFrom(
            'zstd',
            'gzip',
            'lz4',
            'none',
          ) as fc.Arbitrary<WalCompression>,
          partial: fc.boolean(),
          encrypted: fc.boolean(),
        }),
        (timeline, segment, { compression, partial, encrypted }) => {
          const segmentName = segmentFileName(timeline, segment, SIZE);
          const name = walObjectName(segmentName, { compression, partial, encrypted });
          expect(parseWalFileName(name, SIZE)).toEqual({
            kind: 'segment',
            name,
            segmentName,
            timeline,
            segment,
            compression,
            partial,
            encrypted,
          });
        },
      ),
    );
    expect(
      walObjectName('000000010000000000000003', {
        compression: 'zstd',
        partial: true,
        encrypted: true,
      }),
    ).toBe(`000000010000000000000003.zst.partial${ENCRYPTED_SUFFIX}`);
    expect(walObjectName(historyFileName(2), { compression: 'none', encrypted: true })).toBe(
      '00000002.history.age',
    );
  });

  it('carries a history file’s switches in metadata, and the newest when all do not fit', () => {
    const text = '1\t0/3000158\tno recovery target specified\n2\t0/5000000\tat restore point\n';
    const metadata = formatTimelineSwitches(parseTimelineHistory(text));
    expect(metadata).toBe('1@0/3000158,2@0/5000000');
    expect(parseTimelineSwitches(metadata)).toEqual([
      { parentTimeline: 1, switchLsn: 0x3000158n, reason: '' },
      { parentTimeline: 2, switchLsn: 0x5000000n, reason: '' },
    ]);
    expect(parseTimelineSwitches('')).toEqual([]);
    expect(() => parseTimelineSwitches('1@0/3000158,x')).toThrow(/not a list of timeline switches/);
    const many = Array.from({ length: 200 }, (_, index) => ({
      parentTimeline: index + 1,
      switchLsn: BigInt(index + 1) * 0x1_0000_0000n,
      reason: '',
    }));
    const kept = parseTimelineSwitches(formatTimelineSwitches(many));
    expect(formatTimelineSwitches(many).length).toBeLessThanOrEqual(
      TIMELINE_SWITCHES_METADATA_BYTES,
    );
    expect(kept.length).toBeGreaterThan(30);
    expect(kept).toEqual(many.slice(many.length - kept.length));
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
