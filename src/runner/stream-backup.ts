/**
 * The data path of a backup: a tool's stdout (pg_basebackup, pg_dump), encrypted for the
 * policy's recipients when it has any, hashed on the way (the stored bytes), written to every
 * store at once (the remote bucket, and the local volume from the same stream). The objects
 * complete only once the tool exited successfully; any failure aborts them all.
 */
import type { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { type AgeRecipient, createAgeEncrypter, EncryptionError } from '../encryption/index.js';
import { type BaseBackupInput, type BaseBackupResult, startBaseBackup } from '../postgres/index.js';
import {
  type ArtifactStore,
  createDigestTee,
  type ObjectWriter,
  type StreamDigest,
} from '../storage/index.js';

/** One destination: a store and the object key in it. */
export interface StreamTarget {
  readonly store: ArtifactStore;
  readonly key: string;
}

/** Where and how a stream is stored. */
export interface StreamOptions {
  readonly targets: readonly StreamTarget[];
  readonly partSizeBytes: number;
  /** Stops the stream, aborting every object (the run lost its lock). */
  readonly signal?: AbortSignal | undefined;
  /**
   * Present: the stream is stored as an age file for these recipients (the targets' keys end
   * in `.age`, see {@link ENCRYPTED_SUFFIX}), and the digest is of the ciphertext.
   */
  readonly recipients?: readonly AgeRecipient[] | undefined;
}

/** What {@link streamBaseBackup} needs. */
export interface StreamBackupInput extends StreamOptions {
  readonly backup: BaseBackupInput;
}

/** The suffix of an encrypted object's name, after the compression's (`base.tar.zst.age`). */
export const ENCRYPTED_SUFFIX = '.age';

/** The stored name of an object: `.age` appended when it is encrypted. */
export function storedNameOf(name: string, recipients: readonly AgeRecipient[] | undefined) {
  return recipients === undefined ? name : `${name}${ENCRYPTED_SUFFIX}`;
}

/** What was stored, and where the backup lies in the WAL. */
export interface StreamedBackup extends BaseBackupResult {
  readonly digest: StreamDigest;
}

/** A running tool whose stdout is the backup stream. */
export interface StreamSource<R> {
  readonly stdout: Readable;
  /** Settles when the tool exits: resolved on success, rejected with its failure otherwise. */
  readonly exited: Promise<R>;
  kill(): void;
}

/** Runs pg_basebackup into the targets; on any failure every object is aborted. */
export async function streamBaseBackup(input: StreamBackupInput): Promise<StreamedBackup> {
  return streamToStores(startBaseBackup(input.backup), input);
}

/**
 * Streams a tool's stdout into the targets, through the age encrypter when `recipients` are
 * given (memory stays at one 64 KiB chunk); on any failure, the encrypter's included, or when
 * `signal` aborts, every object is aborted.
 */
export async function streamToStores<R>(
  child: StreamSource<R>,
  options: StreamOptions,
): Promise<R & { readonly digest: StreamDigest }> {
  const { targets, partSizeBytes, signal, recipients } = options;
  // Made before any object is opened: a recipient the library refuses leaves nothing to abort.
  const stages = await encryptionStages(child, recipients);
  const writers: ObjectWriter[] = targets.map((target) =>
    target.store.openObject(target.key, { partSizeBytes }),
  );
  // The tool's failure is read only after the stores are aborted; until then it must count as
  // handled, or a tool that dies meanwhile (killed below, or its server gone) crashes the
  // runner with an unhandled rejection instead of failing the run with a message.
  child.exited.catch(() => undefined);
  let result: { value: R } | undefined;
  const tee = createDigestTee({
    targets: writers.map((writer) => writer.writable),
    beforeEnd: async () => {
      result = { value: await child.exited };
    },
  });
  // A store that fails (S3 refusing a part, a full volume) stops the stream at once instead
  // of leaving it waiting for a drain that never comes.
  for (const writer of writers) {
    writer.stored.catch((error: unknown) => tee.writable.destroy(error as Error));
  }
  try {
    signal?.throwIfAborted();
    await pipeline([child.stdout, ...stages, tee.writable], { signal });
    await Promise.all(writers.map((writer) => writer.stored));
  } catch (error) {
    child.kill();
    // A store whose own stream broke (a full volume) is the cause; the abort below breaks the
    // others' streams too, so they are told apart before it.
    const broken = writers.filter((writer) => writer.writable.errored !== null);
    await Promise.all(writers.map((writer) => writer.abort()));
    // Why the stream was stopped (the lost lock) says more than the tool's death it caused.
    if (signal?.aborted) throw signal.reason;
    const storeFailure = await firstRejection(broken.map((writer) => writer.stored));
    if (storeFailure !== undefined) throw storeFailure;
    // The tool's own failure explains more than a broken pipe it caused; a store's or the
    // encrypter's failure is never caused by the tool (which was killed for it above).
    const exit = await child.exited.then(
      () => undefined,
      (failure: unknown) => failure,
    );
    const ours =
      error instanceof EncryptionError || (error instanceof Error && error.name === 'StorageError');
    throw exit instanceof Error && !ours ? exit : error;
  }
  if (result === undefined) throw new Error('the backup tool finished without a result');
  return { ...result.value, digest: tee.digest() };
}

/**
 * The encrypter, when there are recipients: it goes between the tool and the digest, so the
 * manifest's SHA-256 and size are of the stored bytes. Stops the tool when it cannot be made.
 */
async function encryptionStages(
  child: StreamSource<unknown>,
  recipients: readonly AgeRecipient[] | undefined,
): Promise<Transform[]> {
  if (recipients === undefined) return [];
  try {
    return [await createAgeEncrypter(recipients)];
  } catch (error) {
    child.exited.catch(() => undefined);
    child.kill();
    throw error;
  }
}

/** The first of the promises' rejections, in their order; undefined when all resolved. */
async function firstRejection(promises: readonly Promise<unknown>[]): Promise<unknown> {
  for (const promise of promises) {
    const failure = await promise.then(
      () => undefined,
      (error: unknown) => error ?? new Error('a store failed'),
    );
    if (failure !== undefined) return failure;
  }
  return undefined;
}
