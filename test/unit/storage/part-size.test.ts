import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_PARTS, MIN_PART_SIZE_BYTES, partSizeFor } from '../../../src/storage/index.js';
import { UPLOAD_QUEUE_SIZE, uploadBufferBytes } from '../../../src/storage/part-size.js';

const MEBIBYTE = 1024 * 1024;
const TEBIBYTE = 1024 ** 4;

describe('partSizeFor', () => {
  it('fits twice the expected size in 90 % of S3’s 10,000 parts, in whole MiB, never below S3’s minimum', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 20 * TEBIBYTE }), (expectedBytes) => {
        const size = partSizeFor(expectedBytes);
        expect(size % MEBIBYTE).toBe(0);
        expect(size).toBeGreaterThanOrEqual(MIN_PART_SIZE_BYTES);
        expect(Math.ceil((2 * expectedBytes) / size)).toBeLessThanOrEqual(MAX_PARTS * 0.9);
      }),
    );
  });

  it('grows with the database and keeps the floor for small ones (memory stays part size × queue)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 10 * TEBIBYTE }),
        fc.integer({ min: 0, max: 10 * TEBIBYTE }),
        (a, b) => {
          const [small, large] = a <= b ? [a, b] : [b, a];
          expect(partSizeFor(small)).toBeLessThanOrEqual(partSizeFor(large));
        },
      ),
    );
    expect(partSizeFor(2 * 1024 ** 3)).toBe(MIN_PART_SIZE_BYTES);
    expect(partSizeFor(21 * 1024 ** 3)).toBe(MIN_PART_SIZE_BYTES);
  });

  it('gives a 5 TiB database parts of a size S3 accepts (≤ 5 GiB)', () => {
    const size = partSizeFor(5 * TEBIBYTE);
    expect(size).toBeLessThanOrEqual(5 * 1024 ** 3);
    expect((2 * 5 * TEBIBYTE) / size).toBeLessThanOrEqual(MAX_PARTS);
  });

  it('needs 234 MiB parts for 1 TiB: S3’s 10,000 parts, not memory, sets the size there', () => {
    expect(partSizeFor(TEBIBYTE)).toBe(234 * MEBIBYTE);
  });
});

describe('uploadBufferBytes', () => {
  it('keeps the upload buffers of a database up to 21 GiB at 20 MiB (two parts in flight, one filling and its copy)', () => {
    expect(UPLOAD_QUEUE_SIZE).toBe(2);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 21 * 1024 ** 3 }), (expectedBytes) => {
        expect(uploadBufferBytes(partSizeFor(expectedBytes))).toBe(20 * MEBIBYTE);
      }),
    );
  });

  it('grows with the part size beyond, four parts at 1 TiB', () => {
    expect(uploadBufferBytes(partSizeFor(TEBIBYTE))).toBe(4 * 234 * MEBIBYTE);
  });
});
