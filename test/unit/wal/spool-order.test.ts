import { describe, expect, it } from 'vitest';
import { compareSpoolFiles, type SpoolFile } from '../../../src/wal/spool.js';

function segment(name: string, kind: 'segment' | 'partial' = 'segment'): SpoolFile {
  return {
    kind,
    name: kind === 'partial' ? `${name}.partial` : name,
    segmentName: name,
    timeline: Number.parseInt(name.slice(0, 8), 16),
    segment: BigInt(`0x${name.slice(16)}`),
    sizeBytes: 16 * 1024 * 1024,
  };
}

describe('the order the uploader stores the spool in', () => {
  it('is history files first, then segments by position, the older timeline first', () => {
    const files: SpoolFile[] = [
      segment('000000020000000000000005', 'partial'),
      segment('000000010000000000000005', 'partial'),
      { kind: 'history', name: '00000002.history', timeline: 2, sizeBytes: 42 },
      segment('000000010000000000000004'),
    ];
    expect(files.sort(compareSpoolFiles).map((file) => file.name)).toEqual([
      '00000002.history',
      '000000010000000000000004',
      '000000010000000000000005.partial',
      '000000020000000000000005.partial',
    ]);
  });
});
