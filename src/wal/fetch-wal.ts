/**
 * One WAL file from the bucket into the place recovery asked for it (`restore_command`'s
 * `%p`): the object chosen by {@link chooseWalObject}, its stored bytes checked against the
 * SHA-256 in its metadata while they stream, decompressed, written to a temporary file beside
 * the destination and renamed into place only when complete and verified. Memory stays bounded
 * by a few buffers.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { Duplex, PassThrough, type Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip, createZstdDecompress } from 'node:zlib';
import { chooseWalObject } from '../retention/wal-fetch-choice.js';
import {
  DEFAULT_WAL_SEGMENT_SIZE,
  parseWalFileName,
  type WalCompression,
} from '../retention/wal-names.js';
import type { WalStore } from '../storage/index.js';

/** What {@link fetchWalFile} did. */
export type WalFetchOutcome =
  | { readonly kind: 'fetched'; readonly name: string; readonly partial: boolean }
  | { readonly kind: 'missing'; readonly reason: string };

/** The stored bytes are not the ones uploaded: the object is damaged or was replaced. */
export class WalIntegrityError extends Error {
  override readonly name = 'WalIntegrityError';
}

/** The program that decompresses lz4; the image carries Debian's `lz4`. */
const LZ4_PROGRAM = 'lz4';

/** `lz4 -d` as a stream stage; it fails the pipeline when the program fails. */
function lz4Decompressor(): Duplex {
  const child = spawn(LZ4_PROGRAM, ['-d', '-q', '-c'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-2048);
  });
  const output = new PassThrough();
  const stage = Duplex.from({ writable: child.stdin, readable: output });
  child.on('error', (error) =>
    stage.destroy(new Error(`cannot run ${LZ4_PROGRAM}: ${error.message}`)),
  );
  child.stdout.on('data', (chunk: Buffer) => {
    if (!output.write(chunk)) child.stdout.pause();
  });
  output.on('drain', () => child.stdout.resume());
  child.on('close', (code) => {
    if (code === 0) output.end();
    else
      stage.destroy(new Error(`${LZ4_PROGRAM} -d failed (exit status ${code}): ${stderr.trim()}`));
  });
  return stage;
}

function decompressorOf(compression: WalCompression): Transform | Duplex {
  switch (compression) {
    case 'zstd':
      return createZstdDecompress();
    case 'gzip':
      return createGunzip();
    case 'lz4':
      return lz4Decompressor();
    case 'none':
      return new PassThrough();
  }
}

/** The file names recovery may ask for start with the segment or history name alone. */
function listingPrefixOf(requested: string): string {
  return requested.slice(0, 24);
}

async function syncFile(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Streams `name` into `target`, verifying its stored bytes; throws on any mismatch. */
async function download(
  store: WalStore,
  name: string,
  compression: WalCompression,
  target: string,
): Promise<void> {
  const { body, sha256 } = await store.read(name);
  if (sha256 === undefined) {
    body.destroy();
    throw new WalIntegrityError(
      `${name} in ${store.description} carries no sha256 metadata, so it cannot be checked: it was not stored by pgbackup's WAL receiver; remove it or restore it from another copy`,
    );
  }
  const hash = createHash('sha256');
  const tap = new PassThrough();
  tap.on('data', (chunk: Buffer) => hash.update(chunk));
  await pipeline(body, tap, decompressorOf(compression), createWriteStream(target));
  const actual = hash.digest('hex');
  if (actual !== sha256) {
    throw new WalIntegrityError(
      `${name} in ${store.description} is damaged: its bytes have SHA-256 ${actual}, but it was stored with ${sha256}; the WAL from this file on cannot be replayed from the bucket`,
    );
  }
  await syncFile(target);
}

/**
 * Fetches the WAL file `requested` into `destination`, atomically: `destination` appears
 * complete and verified, or not at all.
 *
 * @returns `missing` when the bucket has no object that answers the request (recovery asks
 *   for such files as a matter of course)
 * @throws StorageError when the bucket cannot be read, WalIntegrityError when the object is
 *   damaged, or an Error when the destination cannot be written
 */
export async function fetchWalFile(input: {
  readonly store: WalStore;
  readonly requested: string;
  readonly destination: string;
  readonly segmentSize?: number;
}): Promise<WalFetchOutcome> {
  const { store, requested } = input;
  const segmentSize = input.segmentSize ?? DEFAULT_WAL_SEGMENT_SIZE;
  if (parseWalFileName(requested, segmentSize) === undefined) {
    return { kind: 'missing', reason: `${requested} is not a WAL segment or history file name` };
  }
  // The objects named like the request answer almost every request with one short listing;
  // only a partial needs the whole listing, to know that no newer WAL follows it.
  const nearby = (await store.list(listingPrefixOf(requested))).map(({ name }) => name);
  let choice = chooseWalObject(requested, nearby, segmentSize);
  if (choice.kind === 'stored' && choice.partial) {
    const everything = (await store.list()).map(({ name }) => name);
    choice = chooseWalObject(requested, everything, segmentSize);
  }
  if (choice.kind === 'missing') return choice;
  const temporary = join(
    dirname(input.destination),
    `.${basename(input.destination)}.pgbackup-${process.pid}.tmp`,
  );
  try {
    await download(store, choice.name, choice.compression, temporary);
    await rename(temporary, input.destination);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
  return { kind: 'fetched', name: choice.name, partial: choice.partial };
}
