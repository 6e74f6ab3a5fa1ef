/**
 * Reading a committed backup's objects back from a store: each object streamed to a file
 * while its size and SHA-256 are computed, then compared with what the manifest recorded. The
 * restore drill starts here; an object that does not match is named with both checksums.
 *
 * An encrypted backup's objects (its manifest has `encryption`) are age files: the SHA-256 is
 * of the stored bytes, as the manifest records it, and what reaches the file is the plaintext,
 * decrypted on the way with Node's ChaCha20-Poly1305 (src/encryption) one 64 KiB chunk at a
 * time, each passed on only once it has authenticated. The identities live in the downloader,
 * so every reader of a backup (restore, drill, point in time) checks them the same way.
 */

import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { Transform, type TransformCallback } from 'node:stream';
import { finished, pipeline } from 'node:stream/promises';
import type { ManifestEncryption } from '../api/index.js';
import {
  type AgeIdentity,
  createAgeDecrypter,
  EncryptionError,
  requireMatchingIdentity,
  WrongIdentityError,
} from '../encryption/index.js';
import type { ArtifactStore } from './artifact-store.js';
import { createDigestTee, type StreamDigest } from './digest-tee.js';
import { StorageError } from './errors.js';
import type { CatalogEntry } from './manifest.js';

/** An object whose bytes are not the ones its manifest recorded. */
export class ObjectMismatchError extends Error {
  override readonly name = 'ObjectMismatchError';
}

/** The identities a reader holds, and where they came from (named in messages). */
export interface ReaderIdentity {
  readonly identities: readonly AgeIdentity[];
  /** E.g. `--identity /etc/pgbackup/identity/key.txt`. */
  readonly source: string;
}

/** Downloads objects of one store. */
export interface ObjectDownloader {
  /**
   * Refuses, before anything is downloaded or written, a backup that is encrypted when this
   * downloader holds no identity of a recipient its manifest names. A plain backup passes.
   *
   * @throws WrongIdentityError naming the backup, the recipients' fingerprints it was made
   *   for, those of the identities given, and how to give the right one
   */
  requireIdentity(entry: CatalogEntry): void;
  /**
   * Writes the object `key` to `path` and checks it against `expected`; with `encryption`
   * (the manifest's), what is written is the decrypted object.
   *
   * @throws ObjectMismatchError naming the object, the expected and the actual size or SHA-256
   * @throws TamperedObjectError when the object matches its manifest but does not decrypt
   *   (the manifest was changed too, or the object was written damaged)
   * @throws StorageError when the object cannot be read
   */
  download(
    key: string,
    path: string,
    expected: StreamDigest,
    encryption?: ManifestEncryption,
  ): Promise<void>;
}

/** The mismatch between what was read and what the manifest says, if any. */
export function describeMismatch(
  key: string,
  expected: StreamDigest,
  actual: StreamDigest,
): string | undefined {
  if (actual.sha256 === expected.sha256 && actual.sizeBytes === expected.sizeBytes) {
    return undefined;
  }
  const size =
    actual.sizeBytes === expected.sizeBytes
      ? `${actual.sizeBytes} bytes as recorded`
      : `${actual.sizeBytes} bytes where the manifest says ${expected.sizeBytes}`;
  return `object ${key} does not match its manifest: SHA-256 ${actual.sha256} where the manifest says ${expected.sha256} (${size}). The stored backup is damaged; take a new backup, and check the bucket's storage`;
}

/** `recipient 0123…` or `recipients 0123…, 4567…`. */
function recipientsNamed(fingerprints: readonly string[]): string {
  return `recipient${fingerprints.length === 1 ? '' : 's'} ${fingerprints.join(', ')}`;
}

/** Where the identity comes from in a cluster, for the messages. */
const IN_CLUSTER =
  '(in the cluster: the Secret named by spec.storage.encryption.identity, which the drill and the Restore mount)';

function requireIdentityOf(entry: CatalogEntry, reader: ReaderIdentity | undefined): void {
  const encryption = entry.manifest.encryption;
  if (encryption === undefined) return;
  const wanted = recipientsNamed(encryption.recipients);
  const identities = reader?.identities ?? [];
  try {
    requireMatchingIdentity(identities, {
      object: entry.key,
      expectedFingerprints: encryption.recipients,
    });
  } catch (error) {
    // Said again for a reader of backups; no cause, which would repeat it in other words.
    if (!(error instanceof WrongIdentityError)) throw error;
    const held = identities.map((identity) => identity.fingerprint).join(', ');
    throw new WrongIdentityError(
      reader === undefined || identities.length === 0
        ? `the backup ${entry.key} is encrypted for ${wanted} and no identity was given: pass its age identity file with --identity FILE ${IN_CLUSTER}. Nothing was downloaded or written`
        : `the backup ${entry.key} was encrypted for ${wanted}, and none of the given identities (${reader.source}: for ${held}) is for it: pass the identity of a recipient the backup was made for with --identity FILE ${IN_CLUSTER}. Nothing was downloaded or written`,
    );
  }
}

/** Passes bytes on unchanged while computing their size and SHA-256 (the stored bytes'). */
class DigestPassThrough extends Transform {
  readonly #hash = createHash('sha256');
  #sizeBytes = 0;

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback) {
    this.#hash.update(chunk);
    this.#sizeBytes += chunk.length;
    callback(null, chunk);
  }

  digest(): StreamDigest {
    return { sizeBytes: this.#sizeBytes, sha256: this.#hash.digest('hex') };
  }
}

/** Creates a downloader reading through `store` (its client, and its messages on failure). */
export function createObjectDownloader(
  store: ArtifactStore,
  reader?: ReaderIdentity,
): ObjectDownloader {
  const failedRead = (key: string, error: unknown) => {
    const reason = error instanceof Error ? error.message || error.name : String(error);
    return new StorageError(`could not read ${key} from ${store.description}: ${reason}`, {
      cause: error,
    });
  };

  /** The stored bytes' digest, read again to nowhere. */
  const digestOf = async (key: string): Promise<StreamDigest> => {
    const tee = createDigestTee({ targets: [] });
    await pipeline(await store.readObject(key), tee.writable).catch((error: unknown) => {
      throw failedRead(key, error);
    });
    return tee.digest();
  };

  const downloadPlain = async (key: string, path: string, expected: StreamDigest) => {
    const body = await store.readObject(key);
    const file = createWriteStream(path);
    const tee = createDigestTee({ targets: [file] });
    try {
      await pipeline(body, tee.writable);
      // The tee ends the file; its last bytes are on disk once it finished.
      await finished(file);
    } catch (error) {
      file.destroy();
      throw failedRead(key, error);
    }
    const mismatch = describeMismatch(key, expected, tee.digest());
    if (mismatch !== undefined) throw new ObjectMismatchError(mismatch);
  };

  const downloadDecrypting = async (
    key: string,
    path: string,
    expected: StreamDigest,
    encryption: ManifestEncryption,
  ) => {
    const body = await store.readObject(key);
    const stored = new DigestPassThrough();
    const decrypter = createAgeDecrypter({
      identities: reader?.identities ?? [],
      object: key,
      expectedFingerprints: encryption.recipients,
    });
    try {
      await pipeline(body, stored, decrypter, createWriteStream(path));
    } catch (error) {
      if (!(error instanceof EncryptionError)) throw failedRead(key, error);
      // A changed object fails authentication before its end; when its stored bytes differ
      // from the manifest's, that is the finding (as for a plain object), else age's is.
      const mismatch = describeMismatch(key, expected, await digestOf(key));
      if (mismatch !== undefined) throw new ObjectMismatchError(mismatch, { cause: error });
      throw error;
    }
    const mismatch = describeMismatch(key, expected, stored.digest());
    if (mismatch !== undefined) throw new ObjectMismatchError(mismatch);
  };

  return {
    requireIdentity: (entry) => requireIdentityOf(entry, reader),
    download: (key, path, expected, encryption) =>
      encryption === undefined
        ? downloadPlain(key, path, expected)
        : downloadDecrypting(key, path, expected, encryption),
  };
}
