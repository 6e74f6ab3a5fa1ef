/**
 * Reading a committed backup's objects back from a store: each object streamed to a file
 * while its size and SHA-256 are computed, then compared with what the manifest recorded. The
 * restore drill starts here; an object that does not match is named with both checksums.
 */
import { createWriteStream } from 'node:fs';
import { finished, pipeline } from 'node:stream/promises';
import type { ArtifactStore } from './artifact-store.js';
import { createDigestTee, type StreamDigest } from './digest-tee.js';
import { StorageError } from './errors.js';

/** An object whose bytes are not the ones its manifest recorded. */
export class ObjectMismatchError extends Error {
  override readonly name = 'ObjectMismatchError';
}

/** Downloads objects of one store. */
export interface ObjectDownloader {
  /**
   * Writes the object `key` to `path` and checks it against `expected`.
   *
   * @throws ObjectMismatchError naming the object, the expected and the actual size or SHA-256
   * @throws StorageError when the object cannot be read
   */
  download(key: string, path: string, expected: StreamDigest): Promise<void>;
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

/** Creates a downloader reading through `store` (its client, and its messages on failure). */
export function createObjectDownloader(store: ArtifactStore): ObjectDownloader {
  return {
    download: async (key, path, expected) => {
      const body = await store.readObject(key);
      const file = createWriteStream(path);
      const tee = createDigestTee({ targets: [file] });
      try {
        await pipeline(body, tee.writable);
        // The tee ends the file; its last bytes are on disk once it finished.
        await finished(file);
      } catch (error) {
        file.destroy();
        const reason = error instanceof Error ? error.message || error.name : String(error);
        throw new StorageError(`could not read ${key} from ${store.description}: ${reason}`, {
          cause: error,
        });
      }
      const mismatch = describeMismatch(key, expected, tee.digest());
      if (mismatch !== undefined) throw new ObjectMismatchError(mismatch);
    },
  };
}
