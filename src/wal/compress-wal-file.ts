/**
 * One WAL file made ready for the bucket: read from the spool, compressed as
 * `spec.continuous.compression` says, encrypted in the age format when the policy names
 * recipients, written to a temporary file while the SHA-256 of the bytes written (what the
 * bucket will hold) is computed. Streams all the way: memory stays bounded by a few buffers
 * and one 64 KiB age chunk, whatever the segment size. Node's zlib does gzip and zstd; lz4
 * is the `lz4` program.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { PassThrough, type Transform, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { constants, createGzip, createZstdCompress } from 'node:zlib';
import { type AgeRecipient, createAgeEncrypter } from '../encryption/index.js';
import type { WalCompression } from '../retention/wal-names.js';

/** A compressed copy, ready to upload. */
export interface PreparedWalFile {
  readonly path: string;
  /** SHA-256 (hex) of the bytes in `path`: what the bucket will hold. */
  readonly sha256: string;
  readonly sizeBytes: number;
}

/** The program that compresses lz4; the image carries Debian's `lz4`. */
export const LZ4_PROGRAM = 'lz4';

/**
 * The zlib compressor of a compression. Levels favour speed: the receiver must keep up with
 * the primary, and WAL (page images, zero padding) compresses well at any level.
 */
function zlibCompressorOf(compression: 'gzip' | 'zstd' | 'none'): Transform {
  switch (compression) {
    case 'gzip':
      return createGzip({ level: 1 });
    case 'zstd':
      return createZstdCompress({ params: { [constants.ZSTD_c_compressionLevel]: 1 } });
    case 'none':
      return new PassThrough();
  }
}

/** Pipes `source` through `lz4 -c`, then `stages`, into `target`; fails when the program fails. */
async function compressWithLz4(
  source: string,
  stages: readonly Transform[],
  target: Writable,
): Promise<void> {
  const child = spawn(LZ4_PROGRAM, ['-q', '-1', '-c'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-2048);
  });
  const exited = new Promise<void>((resolve, reject) => {
    child.on('error', (error) => reject(new Error(`cannot run ${LZ4_PROGRAM}: ${error.message}`)));
    child.on('close', (code) =>
      code === 0
        ? resolve()
        : reject(new Error(`${LZ4_PROGRAM} failed (exit status ${code}): ${stderr.trim()}`)),
    );
  });
  const results = await Promise.allSettled([
    pipeline(createReadStream(source), child.stdin),
    pipeline([child.stdout, ...stages, target]),
    exited,
  ]);
  const failed = results.find((result) => result.status === 'rejected');
  if (failed !== undefined) {
    child.kill('SIGKILL');
    throw failed.reason;
  }
}

/**
 * Compresses `source` into `target`, then encrypts it for `recipients` when there are any,
 * hashing what is written.
 *
 * @throws when the source cannot be read or the target written (the target is removed);
 *   EncryptionError when a recipient cannot be encrypted for
 */
export async function prepareWalFile(
  source: string,
  target: string,
  compression: WalCompression,
  recipients: readonly AgeRecipient[] = [],
): Promise<PreparedWalFile> {
  const hash = createHash('sha256');
  let sizeBytes = 0;
  const tap = new PassThrough();
  tap.on('data', (chunk: Buffer) => {
    hash.update(chunk);
    sizeBytes += chunk.length;
  });
  try {
    const stages = recipients.length === 0 ? [tap] : [await createAgeEncrypter(recipients), tap];
    if (compression === 'lz4') {
      await compressWithLz4(source, stages, createWriteStream(target));
    } else {
      await pipeline([
        createReadStream(source),
        zlibCompressorOf(compression),
        ...stages,
        createWriteStream(target),
      ]);
    }
  } catch (error) {
    await rm(target, { force: true });
    throw error;
  }
  return { path: target, sha256: hash.digest('hex'), sizeBytes };
}
