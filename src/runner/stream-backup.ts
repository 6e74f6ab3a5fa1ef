/**
 * The data path of a backup: a tool's stdout (pg_basebackup, pg_dump), hashed on the way,
 * written to every store at once (the remote bucket, and the local volume from the same
 * stream). The objects complete only once the tool exited successfully; any failure aborts
 * them all.
 */
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
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

/** What {@link streamBaseBackup} needs. */
export interface StreamBackupInput {
  readonly backup: BaseBackupInput;
  readonly targets: readonly StreamTarget[];
  readonly partSizeBytes: number;
  /** Stops the stream, aborting every object (the run lost its lock). */
  readonly signal?: AbortSignal | undefined;
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
  return streamToStores(
    startBaseBackup(input.backup),
    input.targets,
    input.partSizeBytes,
    input.signal,
  );
}

/**
 * Streams a tool's stdout into the targets; on any failure, or when `signal` aborts, every
 * object is aborted.
 */
export async function streamToStores<R>(
  child: StreamSource<R>,
  targets: readonly StreamTarget[],
  partSizeBytes: number,
  signal?: AbortSignal,
): Promise<R & { readonly digest: StreamDigest }> {
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
    await pipeline(child.stdout, tee.writable, { signal });
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
    // The tool's own failure explains more than a broken pipe it caused.
    const exit = await child.exited.then(
      () => undefined,
      (failure: unknown) => failure,
    );
    throw exit instanceof Error && !(error instanceof Error && error.name === 'StorageError')
      ? exit
      : error;
  }
  if (result === undefined) throw new Error('the backup tool finished without a result');
  return { ...result.value, digest: tee.digest() };
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
