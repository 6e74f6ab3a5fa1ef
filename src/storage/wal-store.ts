/**
 * The WAL store: the objects under `<prefix>/<namespace>/<policy>/wal/` in S3 (WAL never goes
 * to the local volume). One object per WAL file, named as pg_receivewal names it; each carries
 * the SHA-256 of its stored bytes in its user metadata (`sha256`) and a partial segment also
 * the LSN where its real WAL ends (`end-lsn`: pg_receivewal pads a partial with zeros). An
 * encrypted object (`.age`) names the fingerprints of its recipients (`recipients`, comma-
 * separated), and an encrypted history file its switches (`timeline-switches`), which readers
 * without the identity need.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import {
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { StorageError } from './errors.js';
import {
  createS3Client,
  describeBucket,
  encryptionOf,
  type S3StoreConfig,
  s3Failure,
  s3StatusOf,
} from './s3-client.js';

/** One object of the WAL store, named without its key prefix. */
export interface WalObject {
  readonly name: string;
  readonly sizeBytes: number;
  readonly lastModifiedMs: number;
}

/** The user metadata of a WAL object. */
export interface WalObjectMetadata {
  /** SHA-256 (hex) of the stored bytes (after compression and encryption). */
  readonly sha256: string;
  /** For a `.partial`: the LSN (`0/3000148`) where its real WAL ends. */
  readonly endLsn?: string;
  /** For an encrypted object: the fingerprints of the recipients it was encrypted for. */
  readonly recipients?: readonly string[];
  /** For an encrypted history file: its switches (`formatTimelineSwitches`). */
  readonly timelineSwitches?: string;
}

/** What HEAD or GET tells of a WAL object: its metadata as far as it was stored. */
export interface WalObjectHead extends Partial<WalObjectMetadata> {
  readonly sizeBytes: number;
}

/** A policy's WAL in the bucket. */
export interface WalStore {
  /** e.g. `s3://bucket/prefix/ns/policy/wal/ (endpoint)`, for messages. */
  readonly description: string;
  /** Stores the file at `path` as `name`, streamed from disk; replaces an object of that name. */
  putFile(name: string, path: string, metadata: WalObjectMetadata): Promise<void>;
  /**
   * Every object under `wal/` (or only those whose names start with `startsWith`), names
   * without the prefix, in key order.
   */
  list(startsWith?: string): Promise<WalObject[]>;
  /** The object's metadata and size; undefined when there is no such object. */
  head(name: string): Promise<WalObjectHead | undefined>;
  /**
   * The object's bytes as a stream, with its metadata; throws {@link WalObjectNotFoundError}
   * when it does not exist.
   */
  read(name: string): Promise<{ body: Readable } & WalObjectHead>;
  /** Deletes the objects (missing ones are no error), in batches of 1000. */
  delete(names: readonly string[]): Promise<void>;
}

/** A WAL object that does not exist: restore_command asks for such files as a matter of course. */
export class WalObjectNotFoundError extends StorageError {
  constructor(
    readonly objectName: string,
    where: string,
    options?: ErrorOptions,
  ) {
    super(`no WAL file ${objectName} at ${where}`, options);
  }
}

/** DeleteObjects takes at most this many keys a call. */
const DELETE_BATCH = 1000;
/** Attempts of one upload; each re-opens the file, since a spent stream cannot be re-sent. */
const PUT_ATTEMPTS = 3;
const PUT_RETRY_DELAY_MS = 500;

/** The store of WAL under `walPrefix` (from {@link walKeyPrefix}, ending in `/`). */
export function createWalStore(config: S3StoreConfig, walPrefix: string): WalStore {
  return new S3WalStore(
    config,
    walPrefix,
    createS3Client(config),
    createS3Client(config, { maxAttempts: 1 }),
  );
}

class S3WalStore implements WalStore {
  readonly description: string;

  constructor(
    private readonly config: S3StoreConfig,
    private readonly prefix: string,
    private readonly client: S3Client,
    /** For uploads from a stream, which the SDK cannot retry: putFile retries itself. */
    private readonly streamClient: S3Client,
  ) {
    this.description = describeBucket(config, prefix);
  }

  private async send<T>(action: string, request: () => Promise<T>): Promise<T> {
    try {
      return await request();
    } catch (error) {
      throw s3Failure(this.config, action, error);
    }
  }

  async putFile(name: string, path: string, metadata: WalObjectMetadata): Promise<void> {
    const key = `${this.prefix}${name}`;
    const userMetadata = userMetadataOf(metadata);
    for (let attempt = 1; ; attempt += 1) {
      const { size } = await stat(path);
      const body = createReadStream(path);
      try {
        await this.streamClient.send(
          new PutObjectCommand({
            Bucket: this.config.bucket,
            Key: key,
            Body: body,
            ContentLength: size,
            Metadata: userMetadata,
            ...encryptionOf(this.config),
          }),
        );
        return;
      } catch (error) {
        const status = s3StatusOf(error);
        const permanent = status !== undefined && status >= 400 && status < 500;
        if (permanent || attempt >= PUT_ATTEMPTS)
          throw s3Failure(this.config, `upload ${key}`, error);
        await new Promise((resolve) => setTimeout(resolve, PUT_RETRY_DELAY_MS * attempt));
      } finally {
        body.destroy();
      }
    }
  }

  async list(startsWith = ''): Promise<WalObject[]> {
    const objects: WalObject[] = [];
    let token: string | undefined;
    do {
      const page = await this.send('list WAL objects', () =>
        this.client.send(
          new ListObjectsV2Command({
            Bucket: this.config.bucket,
            Prefix: `${this.prefix}${startsWith}`,
            ContinuationToken: token,
          }),
        ),
      );
      for (const object of page.Contents ?? []) {
        if (object.Key === undefined || !object.Key.startsWith(this.prefix)) continue;
        objects.push({
          name: object.Key.slice(this.prefix.length),
          sizeBytes: object.Size ?? 0,
          lastModifiedMs: object.LastModified?.getTime() ?? 0,
        });
      }
      token = page.IsTruncated === true ? page.NextContinuationToken : undefined;
    } while (token !== undefined);
    return objects;
  }

  async head(name: string): Promise<WalObjectHead | undefined> {
    const key = `${this.prefix}${name}`;
    try {
      const answer = await this.client.send(
        new HeadObjectCommand({ Bucket: this.config.bucket, Key: key }),
      );
      return headOf(answer.Metadata, answer.ContentLength);
    } catch (error) {
      // HEAD answers carry no body: a 404 is a missing object unless the bucket is missing.
      if (s3StatusOf(error) === 404) {
        await this.send('look up the bucket', () => this.client.send(listOne(this.config)));
        return undefined;
      }
      throw s3Failure(this.config, `look up ${key}`, error);
    }
  }

  async read(name: string): Promise<{ body: Readable } & WalObjectHead> {
    const key = `${this.prefix}${name}`;
    try {
      const answer = await this.client.send(
        new GetObjectCommand({ Bucket: this.config.bucket, Key: key }),
      );
      // In Node the SDK's body is a Readable (an IncomingMessage).
      return {
        body: answer.Body as Readable,
        ...headOf(answer.Metadata, answer.ContentLength),
      };
    } catch (error) {
      if (s3StatusOf(error) === 404 && (error as Error)?.name === 'NoSuchKey') {
        throw new WalObjectNotFoundError(name, this.description, { cause: error });
      }
      throw s3Failure(this.config, `read ${key}`, error);
    }
  }

  async delete(names: readonly string[]): Promise<void> {
    for (let start = 0; start < names.length; start += DELETE_BATCH) {
      const batch = names.slice(start, start + DELETE_BATCH);
      const answer = await this.send('delete WAL objects', () =>
        this.client.send(
          new DeleteObjectsCommand({
            Bucket: this.config.bucket,
            Delete: {
              Objects: batch.map((name) => ({ Key: `${this.prefix}${name}` })),
              Quiet: true,
            },
          }),
        ),
      );
      const failed = answer.Errors ?? [];
      if (failed.length > 0) {
        const first = failed[0];
        throw new StorageError(
          `could not delete ${failed.length} WAL object(s) at ${this.description}, e.g. ${first?.Key}: ${first?.Message ?? first?.Code}; check the credentials from ${this.config.credentialsSource} may delete in bucket "${this.config.bucket}"`,
        );
      }
    }
  }
}

/** The S3 user metadata of a WAL object (S3 lowercases the names; values are ASCII). */
function userMetadataOf(metadata: WalObjectMetadata): Record<string, string> {
  const userMetadata: Record<string, string> = { sha256: metadata.sha256 };
  if (metadata.endLsn !== undefined) userMetadata['end-lsn'] = metadata.endLsn;
  if (metadata.recipients !== undefined) userMetadata.recipients = metadata.recipients.join(',');
  if (metadata.timelineSwitches !== undefined) {
    userMetadata['timeline-switches'] = metadata.timelineSwitches;
  }
  return userMetadata;
}

/** Reads back what {@link userMetadataOf} stored; absent names stay absent. */
function headOf(
  metadata: Record<string, string> | undefined,
  contentLength: number | undefined,
): WalObjectHead {
  const sha256 = metadata?.sha256;
  const endLsn = metadata?.['end-lsn'];
  const recipients = metadata?.recipients;
  const timelineSwitches = metadata?.['timeline-switches'];
  return {
    ...(sha256 === undefined ? {} : { sha256 }),
    ...(endLsn === undefined ? {} : { endLsn }),
    ...(recipients === undefined
      ? {}
      : { recipients: recipients.split(',').filter((fingerprint) => fingerprint !== '') }),
    ...(timelineSwitches === undefined ? {} : { timelineSwitches }),
    sizeBytes: contentLength ?? 0,
  };
}

function listOne(config: S3StoreConfig): ListObjectsV2Command {
  return new ListObjectsV2Command({ Bucket: config.bucket, MaxKeys: 1 });
}
