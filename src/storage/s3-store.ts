/**
 * The S3 (or S3-compatible) artifact store: multipart uploads from a stream with
 * `@aws-sdk/lib-storage`, memory bounded by part size × queue size.
 */
import { createHash } from 'node:crypto';
import { PassThrough, type Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import type { ArtifactStore, CleanupReport, ObjectWriter } from './artifact-store.js';
import { StorageError } from './errors.js';
import { MANIFEST_NAME } from './key-scheme.js';
import {
  type BackupManifest,
  type CatalogEntry,
  parseManifest,
  serializeManifest,
} from './manifest.js';
import { UPLOAD_QUEUE_SIZE } from './part-size.js';
import {
  createS3Client,
  describeBucket,
  encryptionOf,
  type S3StoreConfig,
  s3Failure,
  s3StatusOf,
} from './s3-client.js';

export type { RequestChecksumCalculation, S3StoreConfig } from './s3-client.js';

/** Creates the store and its client. */
export function createS3Store(config: S3StoreConfig): ArtifactStore {
  return new S3Store(config, createS3Client(config));
}

class S3Store implements ArtifactStore {
  readonly description: string;

  constructor(
    private readonly config: S3StoreConfig,
    private readonly client: S3Client,
  ) {
    this.description = describeBucket(config);
  }

  private failure(action: string, error: unknown): StorageError {
    return s3Failure(this.config, action, error);
  }

  private async send<T>(action: string, request: () => Promise<T>): Promise<T> {
    try {
      return await request();
    } catch (error) {
      throw this.failure(action, error);
    }
  }

  async check(): Promise<void> {
    try {
      await this.client.send(new HeadBucketCommand({ Bucket: this.config.bucket }));
    } catch (error) {
      // HEAD responses carry no body, so the SDK cannot name the error: the status decides.
      if (s3StatusOf(error) === 404) {
        throw new StorageError(
          `bucket "${this.config.bucket}" does not exist at ${this.description}: create it, or correct spec.storage.s3.bucket (and endpoint/region)`,
          { cause: error },
        );
      }
      throw this.failure('look up the bucket', error);
    }
  }

  private encryption() {
    return encryptionOf(this.config);
  }

  openObject(key: string, options: { readonly partSizeBytes: number }): ObjectWriter {
    const body = new PassThrough({ highWaterMark: 1024 * 1024 });
    const upload = new Upload({
      client: this.client,
      params: { Bucket: this.config.bucket, Key: key, Body: body, ...this.encryption() },
      partSize: options.partSizeBytes,
      queueSize: this.config.queueSize ?? UPLOAD_QUEUE_SIZE,
      // An upload that fails is aborted, so no parts are left to pay for.
      leavePartsOnError: false,
    });
    const stored = upload.done().then(
      () => undefined,
      (error: unknown) => {
        throw this.failure(`upload ${key}`, error);
      },
    );
    // The runner awaits `stored`; this keeps an early failure from being unhandled meanwhile.
    stored.catch(() => undefined);
    return {
      writable: body,
      stored,
      abort: async () => {
        await upload.abort().catch(() => undefined);
        body.destroy();
        await stored.catch(() => undefined);
      },
    };
  }

  async commit(backupKey: string, manifest: BackupManifest): Promise<string> {
    const text = serializeManifest(manifest);
    await this.send('write the manifest', () =>
      this.client.send(
        new PutObjectCommand({
          Bucket: this.config.bucket,
          Key: `${backupKey}${MANIFEST_NAME}`,
          Body: text,
          ContentType: 'application/json',
          ...this.encryption(),
        }),
      ),
    );
    return createHash('sha256').update(text).digest('hex');
  }

  private async listKeys(prefix: string): Promise<{ key: string; modifiedMs: number }[]> {
    const keys: { key: string; modifiedMs: number }[] = [];
    let token: string | undefined;
    do {
      const page = await this.send('list objects', () =>
        this.client.send(
          new ListObjectsV2Command({
            Bucket: this.config.bucket,
            Prefix: prefix,
            ContinuationToken: token,
          }),
        ),
      );
      for (const object of page.Contents ?? []) {
        if (object.Key !== undefined) {
          keys.push({ key: object.Key, modifiedMs: object.LastModified?.getTime() ?? 0 });
        }
      }
      token = page.IsTruncated === true ? page.NextContinuationToken : undefined;
    } while (token !== undefined);
    return keys;
  }

  private getObject(key: string) {
    return this.send(`read ${key}`, () =>
      this.client.send(new GetObjectCommand({ Bucket: this.config.bucket, Key: key })),
    );
  }

  private async readText(key: string): Promise<string> {
    const object = await this.getObject(key);
    return (await object.Body?.transformToString('utf8')) ?? '';
  }

  async readObject(key: string): Promise<Readable> {
    // In Node the SDK's body is a Readable (an IncomingMessage).
    return (await this.getObject(key)).Body as Readable;
  }

  async listBackups(prefix: string): Promise<CatalogEntry[]> {
    const manifests = (await this.listKeys(prefix)).filter(({ key }) =>
      key.endsWith(`/${MANIFEST_NAME}`),
    );
    const entries = await Promise.all(
      manifests.map(async ({ key }) => {
        const manifest = parseManifest(await this.readText(key));
        const backupKey = key.slice(0, -MANIFEST_NAME.length);
        return manifest === undefined ? [] : [{ key: backupKey, manifest }];
      }),
    );
    return entries.flat();
  }

  private async deleteKey(key: string): Promise<void> {
    await this.send(`delete ${key}`, () =>
      this.client.send(new DeleteObjectCommand({ Bucket: this.config.bucket, Key: key })),
    );
  }

  async deleteBackup(backupKey: string): Promise<void> {
    // The manifest goes first: from that moment the backup no longer exists, and data left
    // behind by an interrupted deletion is recognizably garbage.
    await this.deleteKey(`${backupKey}${MANIFEST_NAME}`);
    for (const { key } of await this.listKeys(backupKey)) {
      await this.deleteKey(key);
    }
  }

  /**
   * Unfinished uploads whose key starts with `prefix`, started before `startedBeforeMs` (by
   * the server's record). Listed for the whole bucket and filtered here: MinIO answers a
   * `Prefix` only when it is an exact object key.
   */
  private async listUploads(
    prefix: string,
    startedBeforeMs: number,
  ): Promise<{ Key: string; UploadId: string }[]> {
    const uploads: { Key: string; UploadId: string }[] = [];
    let markers: { KeyMarker?: string; UploadIdMarker?: string } = {};
    for (;;) {
      const page = await this.send('list unfinished uploads', () =>
        this.client.send(
          new ListMultipartUploadsCommand({ Bucket: this.config.bucket, ...markers }),
        ),
      );
      for (const { Key, UploadId, Initiated } of page.Uploads ?? []) {
        // An upload without a start time cannot be proven dead: it stays.
        const startedMs = Initiated?.getTime() ?? Number.POSITIVE_INFINITY;
        if (
          Key?.startsWith(prefix) === true &&
          UploadId !== undefined &&
          startedMs < startedBeforeMs
        ) {
          uploads.push({ Key, UploadId });
        }
      }
      if (page.IsTruncated !== true) return uploads;
      markers = { KeyMarker: page.NextKeyMarker, UploadIdMarker: page.NextUploadIdMarker };
    }
  }

  private async abortUploads(prefix: string, startedBeforeMs: number): Promise<string[]> {
    const aborted: string[] = [];
    for (const { Key, UploadId } of await this.listUploads(prefix, startedBeforeMs)) {
      await this.send(`abort the upload of ${Key}`, () =>
        this.client.send(
          new AbortMultipartUploadCommand({ Bucket: this.config.bucket, Key, UploadId }),
        ),
      );
      aborted.push(Key);
    }
    return aborted;
  }

  async cleanUp(prefix: string, deadBeforeMs: number): Promise<CleanupReport> {
    const abortedUploads = await this.abortUploads(prefix, deadBeforeMs);
    const objects = await this.listKeys(prefix);
    const committed = new Set(
      objects
        .filter(({ key }) => key.endsWith(`/${MANIFEST_NAME}`))
        .map(({ key }) => key.slice(0, -MANIFEST_NAME.length)),
    );
    const orphans = objects.filter(
      ({ key, modifiedMs }) =>
        !committed.has(key.slice(0, key.lastIndexOf('/') + 1)) && modifiedMs < deadBeforeMs,
    );
    for (const { key } of orphans) await this.deleteKey(key);
    return { abortedUploads, deletedObjects: orphans.map(({ key }) => key) };
  }
}
