/**
 * One stream, several destinations: every chunk goes to each target, and the SHA-256 and size
 * are computed on the way. A chunk is acknowledged only when every target has accepted it,
 * so the slowest destination sets the pace and nothing piles up in memory.
 */
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { Writable } from 'node:stream';

/** What the tee saw, once it finished. */
export interface StreamDigest {
  readonly sizeBytes: number;
  readonly sha256: string;
}

/** What {@link createDigestTee} needs. */
export interface DigestTeeInput {
  readonly targets: readonly Writable[];
  /**
   * Awaited after the last chunk and before the targets are ended. A rejection fails the
   * stream without ending the targets, so no destination mistakes a failed stream for a
   * complete one (an S3 upload completes when its body ends).
   */
  readonly beforeEnd?: () => Promise<void>;
}

/** A writable that fans out to the targets; `digest()` is valid after it finished. */
export interface DigestTee {
  readonly writable: Writable;
  digest(): StreamDigest;
}

async function writeToAll(targets: readonly Writable[], chunk: Buffer): Promise<void> {
  await Promise.all(
    targets.map(async (target) => {
      if (!target.write(chunk)) {
        await once(target, 'drain');
      }
    }),
  );
}

/** Creates the tee. */
export function createDigestTee(input: DigestTeeInput): DigestTee {
  const hash = createHash('sha256');
  let sizeBytes = 0;
  let sha256: string | undefined;
  const writable = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      hash.update(chunk);
      sizeBytes += chunk.length;
      writeToAll(input.targets, chunk).then(() => callback(), callback);
    },
    final(callback) {
      const ready = input.beforeEnd?.() ?? Promise.resolve();
      ready.then(
        () => {
          sha256 = hash.digest('hex');
          for (const target of input.targets) target.end();
          callback();
        },
        (error: unknown) => callback(error instanceof Error ? error : new Error(String(error))),
      );
    },
  });
  return {
    writable,
    digest: () => {
      if (sha256 === undefined) throw new Error('the stream has not finished');
      return { sizeBytes, sha256 };
    },
  };
}
