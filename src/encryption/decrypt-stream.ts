/**
 * Decrypting an age file as a stream. The header is read and opened first, so a missing or
 * wrong identity fails before a single plaintext byte is produced; after that, memory stays
 * at about one sealed chunk. A chunk is passed on only once it has authenticated.
 */
import { once } from 'node:events';
import { pipeline, type Readable, Transform, type TransformCallback } from 'node:stream';
import { TamperedObjectError } from './errors.js';
import { findHeaderEnd, type HeaderContext, MAX_HEADER_BYTES, openHeader } from './header.js';
import type { AgeIdentity } from './keys.js';
import {
  derivePayloadKey,
  openChunk,
  PAYLOAD_CHUNK_BYTES,
  PAYLOAD_NONCE_BYTES,
  TAG_BYTES,
} from './payload.js';

const SEALED_CHUNK_BYTES = PAYLOAD_CHUNK_BYTES + TAG_BYTES;

/** What {@link createAgeDecrypter} needs. */
export interface AgeDecryptOptions extends HeaderContext {
  /** Tried in order; the first that opens the header is used. */
  readonly identities: readonly AgeIdentity[];
}

/** Emitted once the header has been opened: the identity is right and the header intact. */
export const HEADER_OPENED_EVENT = 'age-header-opened';

class AgeDecryptTransform extends Transform {
  readonly #options: AgeDecryptOptions;
  /** The header and the payload nonce while they are read (at most {@link MAX_HEADER_BYTES}). */
  #head: Buffer = Buffer.alloc(0);
  #fileKey: Uint8Array | undefined;
  #payloadKey: Buffer | undefined;
  /** One sealed chunk, filled in place: each byte is copied once, whatever the pieces. */
  readonly #sealed = Buffer.allocUnsafe(SEALED_CHUNK_BYTES);
  #sealedBytes = 0;
  #counter = 0;

  constructor(options: AgeDecryptOptions) {
    super();
    this.#options = options;
  }

  override _transform(data: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    if (this.#payloadKey === undefined) {
      this.#head = this.#head.length === 0 ? data : Buffer.concat([this.#head, data]);
      this.#readHead().then(() => callback(), callback);
      return;
    }
    try {
      this.#take(data);
      callback();
    } catch (error) {
      callback(error as Error);
    }
  }

  override _flush(callback: TransformCallback): void {
    try {
      if (this.#payloadKey === undefined) throw this.#truncated('before its payload began');
      this.#open(true);
      callback();
    } catch (error) {
      callback(error as Error);
    }
  }

  async #readHead(): Promise<void> {
    const end = findHeaderEnd(this.#head);
    if (end === undefined) {
      if (this.#head.length > MAX_HEADER_BYTES) {
        throw new TamperedObjectError(
          `${this.#options.object}: no age header in its first ${MAX_HEADER_BYTES} bytes: it is not an age file, or was damaged; restore another backup`,
        );
      }
      return;
    }
    if (this.#fileKey === undefined) {
      const header = this.#head.subarray(0, end);
      this.#fileKey = await openHeader(header, this.#options.identities, this.#options);
      this.emit(HEADER_OPENED_EVENT);
    }
    if (this.#head.length < end + PAYLOAD_NONCE_BYTES) return;
    const nonce = this.#head.subarray(end, end + PAYLOAD_NONCE_BYTES);
    this.#payloadKey = derivePayloadKey(this.#fileKey, nonce);
    const rest = this.#head.subarray(end + PAYLOAD_NONCE_BYTES);
    this.#head = Buffer.alloc(0);
    this.#take(rest);
  }

  #take(data: Buffer): void {
    let offset = 0;
    while (offset < data.length) {
      // A full sealed chunk is opened as not-last only once more bytes follow it.
      if (this.#sealedBytes === SEALED_CHUNK_BYTES) this.#open(false);
      const copied = data.copy(this.#sealed, this.#sealedBytes, offset);
      this.#sealedBytes += copied;
      offset += copied;
    }
  }

  #open(last: boolean): void {
    const key = this.#payloadKey;
    if (key === undefined) throw this.#truncated('before its payload began');
    if (last && this.#sealedBytes === TAG_BYTES && this.#counter > 0) {
      throw this.#truncated('with an empty last chunk');
    }
    const plaintext = openChunk(
      key,
      this.#counter,
      last,
      this.#sealed.subarray(0, this.#sealedBytes),
    );
    if (plaintext === undefined) {
      throw new TamperedObjectError(
        last
          ? `${this.#options.object}: its last chunk (${this.#counter + 1}) fails authentication: the object was cut short, changed or damaged after it was written; restore another backup`
          : `${this.#options.object}: chunk ${this.#counter + 1} fails authentication: the object was changed or damaged after it was written; restore another backup`,
      );
    }
    this.#counter += 1;
    this.#sealedBytes = 0;
    if (plaintext.length > 0) this.push(plaintext);
  }

  #truncated(where: string): TamperedObjectError {
    return new TamperedObjectError(
      `${this.#options.object} ends ${where}: the object was cut short; restore another backup`,
    );
  }
}

/**
 * A Transform that decrypts an age file with the identities. Errors are
 * {@link WrongIdentityError} (from the header, before any output) and
 * {@link TamperedObjectError}.
 */
export function createAgeDecrypter(options: AgeDecryptOptions): Transform {
  return new AgeDecryptTransform(options);
}

/**
 * Starts decrypting `source` and resolves once the header has been opened, so a caller can
 * refuse before it creates any file: a wrong or missing identity rejects here. The plaintext
 * is then read from the returned stream, which fails if a later chunk does not authenticate.
 */
export async function openAgeStream(
  source: Readable,
  options: AgeDecryptOptions,
): Promise<Readable> {
  const decrypter = createAgeDecrypter(options);
  // pipeline destroys the source when decryption fails and the decrypter when the source
  // fails; either way the error reaches whoever reads the decrypter, so the callback has
  // nothing to add.
  pipeline(source, decrypter, () => undefined);
  await once(decrypter, HEADER_OPENED_EVENT);
  return decrypter;
}
