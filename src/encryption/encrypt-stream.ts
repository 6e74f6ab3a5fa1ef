/**
 * Encrypting a stream into an age file, chunk by chunk: memory stays at one 64 KiB chunk
 * whatever the object's size.
 */
import { Transform, type TransformCallback } from 'node:stream';
import { createHeader } from './header.js';
import type { AgeRecipient } from './keys.js';
import { createPayloadNonce, derivePayloadKey, PAYLOAD_CHUNK_BYTES, sealChunk } from './payload.js';

class AgeEncryptTransform extends Transform {
  readonly #payloadKey: Buffer;
  readonly #chunk = Buffer.allocUnsafe(PAYLOAD_CHUNK_BYTES);
  #chunkBytes = 0;
  #counter = 0;

  constructor(header: Buffer, fileKey: Uint8Array) {
    super();
    const payloadNonce = createPayloadNonce();
    this.#payloadKey = derivePayloadKey(fileKey, payloadNonce);
    this.push(header);
    this.push(payloadNonce);
  }

  override _transform(data: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    let offset = 0;
    while (offset < data.length) {
      // A full chunk is sealed only once more data follows: the last chunk carries the flag.
      if (this.#chunkBytes === PAYLOAD_CHUNK_BYTES) this.#seal(false);
      const copied = data.copy(this.#chunk, this.#chunkBytes, offset);
      this.#chunkBytes += copied;
      offset += copied;
    }
    callback();
  }

  override _flush(callback: TransformCallback): void {
    this.#seal(true);
    callback();
  }

  #seal(last: boolean): void {
    const plaintext = this.#chunk.subarray(0, this.#chunkBytes);
    for (const part of sealChunk(this.#payloadKey, this.#counter, last, plaintext)) {
      this.push(part);
    }
    this.#counter += 1;
    this.#chunkBytes = 0;
  }
}

/**
 * A Transform that turns plaintext into an age file (age-encryption.org/v1) for the
 * recipients, which `age -d -i key.txt` decrypts. Resolves once the header is made (the
 * recipients' keys are checked by then), before any data flows.
 *
 * @throws EncryptionError when there is no recipient
 */
export async function createAgeEncrypter(recipients: readonly AgeRecipient[]): Promise<Transform> {
  const { header, fileKey } = await createHeader(recipients);
  return new AgeEncryptTransform(header, fileKey);
}
