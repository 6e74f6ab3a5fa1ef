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
  /** Bytes not consumed yet: the header while it is read, then at most one sealed chunk. */
  #pending: Buffer = Buffer.alloc(0);
  #payloadKey: Buffer | undefined;
  #fileKey: Uint8Array | undefined;
  #counter = 0;

  constructor(options: AgeDecryptOptions) {
    super();
    this.#options = options;
  }

  override _transform(data: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.#pending = this.#pending.length === 0 ? data : Buffer.concat([this.#pending, data]);
    this.#advance().then(() => callback(), callback);
  }

  override _flush(callback: TransformCallback): void {
    try {
      if (this.#payloadKey === undefined) throw this.#truncated('before its payload began');
      this.#open(this.#pending, true);
      this.#pending = Buffer.alloc(0);
      callback();
    } catch (error) {
      callback(error as Error);
    }
  }

  async #advance(): Promise<void> {
    if (this.#fileKey === undefined) {
      const end = findHeaderEnd(this.#pending);
      if (end === undefined) {
        if (this.#pending.length > MAX_HEADER_BYTES) {
          throw new TamperedObjectError(
            `${this.#options.object}: no age header in its first ${MAX_HEADER_BYTES} bytes: it is not an age file, or was damaged; restore another backup`,
          );
        }
        return;
      }
      this.#fileKey = await openHeader(
        this.#pending.subarray(0, end),
        this.#options.identities,
        this.#options,
      );
      this.#pending = this.#pending.subarray(end);
      this.emit(HEADER_OPENED_EVENT);
    }
    if (this.#payloadKey === undefined) {
      if (this.#pending.length < PAYLOAD_NONCE_BYTES) return;
      this.#payloadKey = derivePayloadKey(
        this.#fileKey,
        this.#pending.subarray(0, PAYLOAD_NONCE_BYTES),
      );
      this.#pending = this.#pending.subarray(PAYLOAD_NONCE_BYTES);
    }
    // A full sealed chunk is opened as not-last only when more bytes follow it.
    let offset = 0;
    while (this.#pending.length - offset > SEALED_CHUNK_BYTES) {
      this.#open(this.#pending.subarray(offset, offset + SEALED_CHUNK_BYTES), false);
      offset += SEALED_CHUNK_BYTES;
    }
    // Copied so the remainder does not keep the whole incoming buffer alive.
    this.#pending = offset === 0 ? this.#pending : Buffer.from(this.#pending.subarray(offset));
  }

  #open(sealed: Buffer, last: boolean): void {
    const key = this.#payloadKey;
    if (key === undefined) throw this.#truncated('before its payload began');
    if (last && sealed.length === TAG_BYTES && this.#counter > 0) {
      throw this.#truncated('with an empty last chunk');
    }
    const plaintext = openChunk(key, this.#counter, last, sealed);
    if (plaintext === undefined) {
      throw new TamperedObjectError(
        last
          ? `${this.#options.object}: its last chunk (${this.#counter + 1}) fails authentication: the object was cut short, changed or damaged after it was written; restore another backup`
          : `${this.#options.object}: chunk ${this.#counter + 1} fails authentication: the object was changed or damaged after it was written; restore another backup`,
      );
    }
    this.#counter += 1;
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
