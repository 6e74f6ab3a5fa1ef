/**
 * One stream, several destinations: the chunks go to each target in batches of about 1 MiB,
 * and the SHA-256 and size are computed on the way. A batch is acknowledged only when every
 * target has accepted it, so the slowest destination sets the pace and memory stays bounded
 * by one batch beyond what the targets buffer.
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
   * Awaited after the last chunk, before the last batch is written and the targets are
   * ended. A rejection fails the stream without ending the targets, so no destination
   * mistakes a failed stream for a complete one (an S3 upload completes when its body ends).
   */
  readonly beforeEnd?: () => Promise<void>;
  /**
   * Chunks are gathered up to this many bytes before they go to the targets (default 1 MiB).
   * Tools write in pieces of a few KiB; passing each one through every target's stream costs
   * more CPU than the copy that joins them, CPU the tool itself is then short of.
   */
  readonly batchBytes?: number;
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

const DEFAULT_BATCH_BYTES = 1024 * 1024;

/** Chunks held until they add up to a batch. */
class Gathered {
  private chunks: Buffer[] = [];
  private bytes = 0;

  add(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.bytes += chunk.length;
  }

  get sizeBytes(): number {
    return this.bytes;
  }

  /** The chunks as one buffer, and empty again. */
  take(): Buffer {
    const batch = Buffer.concat(this.chunks, this.bytes);
    this.chunks = [];
    this.bytes = 0;
    return batch;
  }
}

/** Creates the tee. */
export function createDigestTee(input: DigestTeeInput): DigestTee {
  const batchBytes = input.batchBytes ?? DEFAULT_BATCH_BYTES;
  const hash = createHash('sha256');
  const gathered = new Gathered();
  let sizeBytes = 0;
  let sha256: string | undefined;
  const writable = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      hash.update(chunk);
      sizeBytes += chunk.length;
      gathered.add(chunk);
      if (gathered.sizeBytes < batchBytes) {
        callback();
        return;
      }
      writeToAll(input.targets, gathered.take()).then(() => callback(), callback);
    },
    final(callback) {
      const finish = async () => {
        await input.beforeEnd?.();
        if (gathered.sizeBytes > 0) await writeToAll(input.targets, gathered.take());
        sha256 = hash.digest('hex');
        for (const target of input.targets) target.end();
      };
      finish().then(
        () => callback(),
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
