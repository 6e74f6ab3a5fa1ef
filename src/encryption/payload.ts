/**
 * The age payload (age-encryption.org/v1, "STREAM"): the plaintext in chunks of 64 KiB,
 * each sealed with ChaCha20-Poly1305 under a key derived from the file key and a 16-byte
 * nonce. Node's own ChaCha20-Poly1305 (OpenSSL) does the sealing: it is several times faster
 * than a JavaScript implementation, which matters since every backup byte passes here.
 *
 * The chunk nonce is an 11-byte big-endian counter and a last-chunk flag byte. Only the last
 * chunk may be shorter than 64 KiB, and it is empty only when the whole plaintext is, so a
 * stream cut at a chunk boundary fails authentication instead of passing as complete.
 */
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

/** Plaintext bytes per chunk. */
export const PAYLOAD_CHUNK_BYTES = 64 * 1024;
/** The Poly1305 tag after each chunk. */
export const TAG_BYTES = 16;
/** The nonce between the header and the first chunk. */
export const PAYLOAD_NONCE_BYTES = 16;

const ALGORITHM = 'chacha20-poly1305';

/** The payload key: HKDF-SHA256 of the file key, salted with the payload nonce. */
export function derivePayloadKey(fileKey: Uint8Array, payloadNonce: Uint8Array): Buffer {
  return Buffer.from(hkdfSync('sha256', fileKey, payloadNonce, 'payload', 32));
}

/** A fresh random payload nonce. */
export function createPayloadNonce(): Buffer {
  return randomBytes(PAYLOAD_NONCE_BYTES);
}

function chunkNonce(counter: number, last: boolean): Buffer {
  const nonce = Buffer.alloc(12);
  // 2^53 chunks of 64 KiB is far beyond any object; the top bytes of the counter stay zero.
  nonce.writeUIntBE(counter, 5, 6);
  nonce[11] = last ? 1 : 0;
  return nonce;
}

/** Seals chunk number `counter`: ciphertext then tag. */
export function sealChunk(
  key: Buffer,
  counter: number,
  last: boolean,
  plaintext: Uint8Array,
): Buffer[] {
  const cipher = createCipheriv(ALGORITHM, key, chunkNonce(counter, last), {
    authTagLength: TAG_BYTES,
  });
  const sealed = cipher.update(plaintext);
  cipher.final();
  return [sealed, cipher.getAuthTag()];
}

/**
 * Opens chunk number `counter` (ciphertext with its tag at the end).
 *
 * @returns the plaintext, or `undefined` when the chunk fails authentication
 */
export function openChunk(
  key: Buffer,
  counter: number,
  last: boolean,
  sealed: Uint8Array,
): Buffer | undefined {
  if (sealed.length < TAG_BYTES) return undefined;
  const decipher = createDecipheriv(ALGORITHM, key, chunkNonce(counter, last), {
    authTagLength: TAG_BYTES,
  });
  decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
  const plaintext = decipher.update(sealed.subarray(0, sealed.length - TAG_BYTES));
  try {
    decipher.final();
  } catch {
    return undefined;
  }
  return plaintext;
}
