/**
 * One WAL file made ready for the bucket: read from the spool, compressed as
 * `spec.continuous.compression` says, written to a temporary file while the SHA-256 of the
 * bytes written is computed. Streams all the way: memory stays bounded by a few buffers,
 * whatever the segment size. Node's zlib does gzip and zstd; lz4 is the `lz4` program.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { PassThrough, type Transform, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { constants, createGzip, createZstdCompress } from 'node:zlib';
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

/** Pipes `source` through `lz4 -c` into `sink`; fails when the program fails. */
async function compressWithLz4(source: string, tap: Transform, target: Writable): Promise<void> {
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
    pipeline(child.stdout, tap, target),
    exited,
  ]);
  const failed = results.find((result) => result.status === 'rejected');
  if (failed !== undefined) {
    child.kill('SIGKILL');
    throw failed.reason;
  }
}

/**
 * Compresses `source` into `target`, hashing what is written.
 *
 * @throws when the source cannot be read or the target written (the target is removed)
 */
export async function prepareWalFile(
  source: string,
  target: string,
  compression: WalCompression,
): Promise<PreparedWalFile> {
  const hash = createHash('sha256');
  let sizeBytes = 0;
  const tap = new PassThrough();
  tap.on('data', (chunk: Buffer) => {
    hash.update(chunk);
    sizeBytes += chunk.length;
  });
  try {
    if (compression === 'lz4') {
      await compressWithLz4(source, tap, createWriteStream(target));
    } else {
      await pipeline(
        createReadStream(source),
        zlibCompressorOf(compression),
        tap,
        createWriteStream(target),
      );
    }
  } catch (error) {
    await rm(target, { force: true });
    throw error;
  }
  return { path: target, sha256: hash.digest('hex'), sizeBytes };
}
