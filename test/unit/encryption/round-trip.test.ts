import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  createAgeDecrypter,
  createAgeEncrypter,
  PAYLOAD_CHUNK_BYTES,
} from '../../../src/encryption/index.js';
import { decrypt, encrypt, newIdentity, patterned, splitAt } from './age-streams.js';

const CHUNK = PAYLOAD_CHUNK_BYTES;

// Megabytes of ChaCha20 on a loaded CI machine can take longer than the default 5 s.
describe('age streams round trip', { timeout: 60_000 }, () => {
  it.each([
    ['empty', 0],
    ['one byte', 1],
    ['one byte short of a chunk', CHUNK - 1],
    ['exactly one chunk', CHUNK],
    ['one byte over a chunk', CHUNK + 1],
    ['exactly two chunks', 2 * CHUNK],
    ['several MiB', 5 * 1024 * 1024 + 17],
  ])('returns the plaintext of %s (%i bytes)', async (_name, size) => {
    const identity = await newIdentity();
    const plaintext = patterned(size);
    const ciphertext = await encrypt([identity], [plaintext]);
    const chunks = Math.max(1, Math.ceil(size / CHUNK));
    // Header and nonce, then each chunk with its 16-byte tag.
    expect(ciphertext.length).toBeGreaterThan(size + chunks * 16 + 16);
    expect(ciphertext.subarray(0, 22).toString('latin1')).toBe('age-encryption.org/v1\n');
    expect((await decrypt([identity], [ciphertext])).equals(plaintext)).toBe(true);
  });

  it('returns the plaintext whatever the sizes of the pieces written and read', async () => {
    const identity = await newIdentity();
    const cut = fc.array(fc.nat({ max: 3 * CHUNK + 100 }), { maxLength: 8 });
    await fc.assert(
      fc.asyncProperty(
        fc.nat({ max: 3 * CHUNK + 100 }),
        cut,
        cut,
        async (size, inCuts, outCuts) => {
          const plaintext = patterned(size);
          const ciphertext = await encrypt([identity], splitAt(plaintext, inCuts));
          const decrypted = await decrypt([identity], splitAt(ciphertext, outCuts));
          expect(decrypted.equals(plaintext)).toBe(true);
        },
      ),
      { numRuns: 30 },
    );
  }, 120_000);

  it('lets each of several recipients decrypt alone', async () => {
    const first = await newIdentity();
    const second = await newIdentity();
    const third = await newIdentity();
    const plaintext = patterned(CHUNK * 2 + 5);
    const ciphertext = await encrypt([first, second, third], [plaintext]);
    for (const identity of [first, second, third]) {
      expect((await decrypt([identity], [ciphertext])).equals(plaintext)).toBe(true);
    }
  });

  it('decrypts with the one matching identity among several', async () => {
    const recipient = await newIdentity();
    const other = await newIdentity();
    const plaintext = patterned(1000);
    const ciphertext = await encrypt([recipient], [plaintext]);
    expect((await decrypt([other, recipient], [ciphertext])).equals(plaintext)).toBe(true);
  });

  it('never writes the same ciphertext twice for the same plaintext and key', async () => {
    const identity = await newIdentity();
    const plaintext = patterned(100);
    const first = await encrypt([identity], [plaintext]);
    const second = await encrypt([identity], [plaintext]);
    expect(first.equals(second)).toBe(false);
    expect(first.includes(plaintext.subarray(0, 32))).toBe(false);
  });
});

describe('age streams memory', { timeout: 120_000 }, () => {
  it('holds at most a few chunks in flight while 64 MiB pass through', async () => {
    const identity = await newIdentity();
    const piece = patterned(1024 * 1024);
    const encrypter = await createAgeEncrypter([identity]);
    const decrypter = createAgeDecrypter({ identities: [identity], object: 'memory' });
    let largestInFlight = 0;
    let bytes = 0;
    const sink = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        bytes += chunk.length;
        const inFlight = [encrypter, decrypter].reduce(
          (sum, stream) => sum + stream.readableLength + stream.writableLength,
          0,
        );
        largestInFlight = Math.max(largestInFlight, inFlight);
        callback();
      },
    });
    await pipeline(
      Readable.from(Array.from({ length: 64 }, () => piece)),
      encrypter,
      decrypter,
      sink,
    );
    expect(bytes).toBe(64 * 1024 * 1024);
    // About a piece being sealed and its ciphertext (2 MB when measured), never the 64 MiB.
    expect(largestInFlight).toBeLessThanOrEqual(3 * 1024 * 1024);
  });
});
