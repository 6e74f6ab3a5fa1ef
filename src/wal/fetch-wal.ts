/**
 * One WAL file from the bucket into the place recovery asked for it (`restore_command`'s
 * `%p`): the object chosen by {@link chooseWalObject}, its stored bytes checked against the
 * SHA-256 in its metadata while they stream, decrypted when it is an age file (`.age`: every
 * 64 KiB chunk authenticated before it is passed on), decompressed, written to a temporary
 * file beside the destination and renamed into place only when complete and verified. An
 * encrypted object is refused before any file is made when no identity given is for one of
 * the recipients its metadata names. Memory stays bounded by a few buffers.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { Duplex, PassThrough, type Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip, createZstdDecompress } from 'node:zlib';
import {
  type AgeIdentity,
  createAgeDecrypter,
  requireMatchingIdentity,
  WrongIdentityError,
} from '../encryption/index.js';
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

/** The identities that decrypt encrypted WAL, and where they came from (for messages). */
export interface WalIdentity {
  readonly identities: readonly AgeIdentity[];
  /** E.g. `--identity /etc/pgbackup/identity/key.txt`. */
  readonly source: string;
}

const HOW_TO_GIVE =
  "give wal-fetch the age identity file with --identity FILE (in restore_command: an absolute path the server's user can read; `pgbackup restore --identity FILE` writes it so)";

/** `recipient 0123…` or `recipients 0123…, 4567…`. */
function recipientsNamed(fingerprints: readonly string[]): string {
  return `recipient${fingerprints.length === 1 ? '' : 's'} ${fingerprints.join(', ')}`;
}

/**
 * Refuses an encrypted object, from its metadata and before anything is read or written,
 * when no identity is given or none is for a recipient the object names. An object without
 * the metadata is left to its header, which fails just as early.
 */
function requireIdentityFor(
  object: string,
  recipients: readonly string[] | undefined,
  identity: WalIdentity | undefined,
): void {
  const identities = identity?.identities ?? [];
  const wanted = recipients === undefined ? undefined : recipientsNamed(recipients);
  if (identities.length === 0) {
    throw new WrongIdentityError(
      `${object} is encrypted${wanted === undefined ? '' : ` for ${wanted}`} and no identity was given: ${HOW_TO_GIVE}. Nothing was written`,
    );
  }
  if (recipients === undefined) return;
  try {
    requireMatchingIdentity(identities, { object, expectedFingerprints: recipients });
  } catch (error) {
    if (!(error instanceof WrongIdentityError)) throw error;
    const held = identities.map((one) => one.fingerprint).join(', ');
    throw new WrongIdentityError(
      `${object} was encrypted for ${wanted}, and none of the given identities (${identity?.source}: for ${held}) is for it: ${HOW_TO_GIVE.replace('the age identity file', 'the identity file of a recipient it was made for')}. Nothing was written`,
      { cause: error },
    );
  }
}

/**
 * Refuses, from the objects' metadata and before anything is downloaded, WAL that the
 * identity cannot decrypt: each of `requested` (file names as recovery asks for them) that
 * the bucket answers with an encrypted object must name a recipient the identity is for.
 * A point-in-time restore checks the first and last WAL it will replay, so that a key
 * rotated in between is found before the restore starts, not when recovery stops.
 *
 * @throws WrongIdentityError as {@link fetchWalFile} does
 */
export async function requireWalIdentity(input: {
  readonly store: WalStore;
  /** Every object name of the bucket's WAL. */
  readonly names: readonly string[];
  readonly requested: readonly string[];
  readonly identity: WalIdentity | undefined;
  readonly segmentSize?: number;
}): Promise<void> {
  const { store } = input;
  for (const requested of new Set(input.requested)) {
    const choice = chooseWalObject(requested, input.names, input.segmentSize);
    if (choice.kind !== 'stored' || !choice.encrypted) continue;
    const head = await store.head(choice.name);
    requireIdentityFor(`${choice.name} in ${store.description}`, head?.recipients, input.identity);
  }
}

/** Streams `name` into `target`, verifying its stored bytes; throws on any mismatch. */
async function download(
  store: WalStore,
  object: {
    readonly name: string;
    readonly compression: WalCompression;
    readonly encrypted: boolean;
  },
  target: string,
  identity: WalIdentity | undefined,
): Promise<void> {
  const { name, compression, encrypted } = object;
  const { body, sha256, recipients } = await store.read(name);
  if (sha256 === undefined) {
    body.destroy();
    throw new WalIntegrityError(
      `${name} in ${store.description} carries no sha256 metadata, so it cannot be checked: it was not stored by pgbackup's WAL receiver; remove it or restore it from another copy`,
    );
  }
  if (encrypted) {
    try {
      requireIdentityFor(`${name} in ${store.description}`, recipients, identity);
    } catch (error) {
      body.destroy();
      throw error;
    }
  }
  const hash = createHash('sha256');
  const tap = new PassThrough();
  tap.on('data', (chunk: Buffer) => hash.update(chunk));
  const decrypt = encrypted
    ? [
        createAgeDecrypter({
          identities: identity?.identities ?? [],
          object: `${name} in ${store.description}`,
          expectedFingerprints: recipients,
        }),
      ]
    : [];
  await pipeline([body, tap, ...decrypt, decompressorOf(compression), createWriteStream(target)]);
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
 *   damaged, WrongIdentityError when it is encrypted and no identity given opens it,
 *   TamperedObjectError when it fails age's authentication, or an Error when the destination
 *   cannot be written; in every case `destination` is left as it was
 */
export async function fetchWalFile(input: {
  readonly store: WalStore;
  readonly requested: string;
  readonly destination: string;
  readonly segmentSize?: number;
  /** Decrypts encrypted objects; plain ones need none. */
  readonly identity?: WalIdentity | undefined;
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
    await download(store, choice, temporary, input.identity);
    await rename(temporary, input.destination);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
  return { kind: 'fetched', name: choice.name, partial: choice.partial };
}
