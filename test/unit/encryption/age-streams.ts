/**
 * Helpers of the encryption unit tests: keys made on the spot and whole-buffer round trips
 * through the streaming encrypter and decrypter.
 */
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { generateX25519Identity } from 'age-encryption';
import {
  type AgeIdentity,
  type AgeRecipient,
  createAgeEncrypter,
  openAgeStream,
  parseIdentities,
} from '../../../src/encryption/index.js';

/** A fresh X25519 identity, with its recipient and fingerprint. */
export async function newIdentity(): Promise<AgeIdentity> {
  const [identity] = await parseIdentities(await generateX25519Identity(), 'a test key');
  if (identity === undefined) throw new Error('parseIdentities returned nothing');
  return identity;
}

/** The pieces `data` is split into at the given cut points (sorted, within its length). */
export function splitAt(data: Buffer, cuts: readonly number[]): Buffer[] {
  const points = [...new Set(cuts.map((cut) => Math.min(cut, data.length)))].sort((a, b) => a - b);
  const pieces: Buffer[] = [];
  let start = 0;
  for (const point of [...points, data.length]) {
    if (point > start) pieces.push(data.subarray(start, point));
    start = Math.max(start, point);
  }
  return pieces;
}

/** Encrypts `data`, fed to the encrypter in the given pieces. */
export async function encrypt(
  recipients: readonly AgeRecipient[],
  pieces: readonly Buffer[],
): Promise<Buffer> {
  const encrypter = await createAgeEncrypter(recipients);
  return buffer(Readable.from(pieces, { objectMode: false }).pipe(encrypter));
}

/** Decrypts `pieces` of an age file, failing as the decrypter does. */
export async function decrypt(
  identities: readonly AgeIdentity[],
  pieces: readonly Buffer[],
  expectedFingerprints?: readonly string[],
): Promise<Buffer> {
  const source = Readable.from(pieces, { objectMode: false });
  const plaintext = await openAgeStream(source, {
    identities,
    object: 'orders/base.tar.zst.age',
    expectedFingerprints,
  });
  return buffer(plaintext);
}

/** `size` bytes that differ from chunk to chunk (so a swapped chunk would be noticed). */
export function patterned(size: number): Buffer {
  const data = Buffer.alloc(size);
  for (let index = 0; index < size; index += 1) data[index] = (index * 31 + (index >>> 16)) & 0xff;
  return data;
}
