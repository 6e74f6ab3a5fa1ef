/**
 * The data path of a binary backup: pg_basebackup's stdout, hashed on the way, written to every
 * store at once (the remote bucket, and the local volume from the same stream). The objects
 * complete only once pg_basebackup exited successfully; any failure aborts them all.
 */
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
}

/** What was stored, and where the backup lies in the WAL. */
export interface StreamedBackup extends BaseBackupResult {
  readonly digest: StreamDigest;
}

/** Runs pg_basebackup into the targets; on any failure every object is aborted. */
export async function streamBaseBackup(input: StreamBackupInput): Promise<StreamedBackup> {
  const child = startBaseBackup(input.backup);
  const writers: ObjectWriter[] = input.targets.map((target) =>
    target.store.openObject(target.key, { partSizeBytes: input.partSizeBytes }),
  );
  let result: BaseBackupResult | undefined;
  const tee = createDigestTee({
    targets: writers.map((writer) => writer.writable),
    beforeEnd: async () => {
      result = await child.exited;
    },
  });
  // A store that fails (S3 refusing a part, a full volume) stops the stream at once instead
  // of leaving it waiting for a drain that never comes.
  for (const writer of writers) {
    writer.stored.catch((error: unknown) => tee.writable.destroy(error as Error));
  }
  try {
    await pipeline(child.stdout, tee.writable);
    await Promise.all(writers.map((writer) => writer.stored));
  } catch (error) {
    child.kill();
    await Promise.all(writers.map((writer) => writer.abort()));
    // pg_basebackup's own failure explains more than a broken pipe it caused.
    const exit = await child.exited.then(
      () => undefined,
      (failure: unknown) => failure,
    );
    throw exit instanceof Error && !(error instanceof Error && error.name === 'StorageError')
      ? exit
      : error;
  }
  if (result === undefined) throw new Error('pg_basebackup finished without a result');
  return { ...result, digest: tee.digest() };
}
