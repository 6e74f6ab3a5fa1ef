import { createHash } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createDigestTee } from '../../../src/storage/index.js';

/** A target that keeps what it was given: every write, and whether it was ended. */
function collectingTarget(options: { highWaterMark?: number; delayMs?: number } = {}) {
  const writes: Buffer[] = [];
  let ended = false;
  const writable = new Writable({
    highWaterMark: options.highWaterMark ?? 16 * 1024,
    write(chunk: Buffer, _encoding, callback) {
      writes.push(chunk);
      setTimeout(callback, options.delayMs ?? 0);
    },
    final(callback) {
      ended = true;
      callback();
    },
  });
  return {
    writable,
    writes,
    ended: () => ended,
    bytes: () => Buffer.concat(writes),
  };
}

function sha256Of(buffer: Buffer): string {
  return createHash('sha256').update(buffer).digest('hex');
}

describe('createDigestTee', () => {
  it('gives every target the exact bytes, in batches, with their SHA-256 and size', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.uint8Array({ minLength: 0, maxLength: 3000 }), { maxLength: 40 }),
        fc.integer({ min: 1, max: 8192 }),
        async (pieces, batchBytes) => {
          const chunks = pieces.map((piece) => Buffer.from(piece));
          const whole = Buffer.concat(chunks);
          const targets = [collectingTarget(), collectingTarget({ highWaterMark: 1, delayMs: 1 })];
          const tee = createDigestTee({
            targets: targets.map((target) => target.writable),
            batchBytes,
          });
          await pipeline(Readable.from(chunks), tee.writable);
          expect(tee.digest()).toEqual({ sizeBytes: whole.length, sha256: sha256Of(whole) });
          for (const target of targets) {
            expect(target.bytes().equals(whole)).toBe(true);
            expect(target.ended()).toBe(true);
            // Every write but the last is a full batch.
            for (const write of target.writes.slice(0, -1)) {
              expect(write.length).toBeGreaterThanOrEqual(batchBytes);
            }
          }
        },
      ),
      { numRuns: 60 },
    );
  });

  it('joins small chunks: 1,000 chunks of 4 KiB reach a target as 4 writes of 1 MiB', async () => {
    const chunks = Array.from({ length: 1024 }, (_, index) => Buffer.alloc(4096, index % 251));
    const target = collectingTarget();
    const tee = createDigestTee({ targets: [target.writable] });
    await pipeline(Readable.from(chunks), tee.writable);
    expect(target.writes.map((write) => write.length)).toEqual([1, 2, 3, 4].map(() => 1024 * 1024));
  });

  it('waits for beforeEnd before the last batch, and on its failure neither writes it nor ends the targets', async () => {
    const target = collectingTarget();
    const tee = createDigestTee({
      targets: [target.writable],
      batchBytes: 1000,
      beforeEnd: async () => {
        throw new Error('pg_dump exited with code 1');
      },
    });
    const chunks = [Buffer.alloc(600, 1), Buffer.alloc(600, 2), Buffer.alloc(10, 3)];
    await expect(pipeline(Readable.from(chunks), tee.writable)).rejects.toThrow(
      'pg_dump exited with code 1',
    );
    expect(target.bytes().length).toBe(1200);
    expect(target.ended()).toBe(false);
    expect(() => tee.digest()).toThrow('has not finished');
  });
});
