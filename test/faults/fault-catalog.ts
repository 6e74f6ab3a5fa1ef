/**
 * What a fault did to the catalog, read from the bucket itself (never through a fault
 * proxy): the committed backups (a backup exists iff its manifest exists, DESIGN §3), any
 * committed backup whose objects are missing or short (a partial backup visible as one),
 * and manifest-less data a failed run left (invisible to `pgbackup list`, cleaned up later).
 */

import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import {
  type _Object,
  AbortMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
} from '@aws-sdk/client-s3';
import { expect } from 'vitest';
import type { BackupManifest } from '../../src/storage/index.js';
import { testS3Client } from '../harness/s3.js';

/** The state of one policy's prefix in a bucket. */
export interface CatalogState {
  /** Backup key prefixes (ending in `/`) whose manifest.json exists. */
  readonly committed: readonly string[];
  /** Committed backups whose manifest names an object that is missing or of another size. */
  readonly broken: readonly string[];
  /** Data objects under no manifest: what a failed or killed run left, not a backup. */
  readonly leftovers: readonly string[];
  /** Unfinished multipart uploads under the prefix. */
  readonly uploads: number;
}

async function listObjects(bucket: string, prefix: string): Promise<_Object[]> {
  const objects: _Object[] = [];
  let token: string | undefined;
  do {
    const page = await testS3Client().send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
    );
    objects.push(...(page.Contents ?? []));
    token = page.IsTruncated === true ? page.NextContinuationToken : undefined;
  } while (token !== undefined);
  return objects;
}

async function readManifest(bucket: string, key: string): Promise<BackupManifest> {
  const object = await testS3Client().send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return JSON.parse((await object.Body?.transformToString('utf8')) ?? '') as BackupManifest;
}

/** Unfinished uploads under a prefix (MinIO lists a bucket's uploads only whole). */
async function uploadsUnder(bucket: string, prefix: string) {
  const page = await testS3Client().send(new ListMultipartUploadsCommand({ Bucket: bucket }));
  return (page.Uploads ?? []).filter((upload) => upload.Key?.startsWith(prefix) === true);
}

/** Reads the catalog state of `prefix` in `bucket`; a deleted bucket reads as empty. */
export async function readCatalog(bucket: string, prefix: string): Promise<CatalogState> {
  let objects: _Object[];
  try {
    objects = await listObjects(bucket, prefix);
  } catch (error) {
    if ((error as { name?: string }).name === 'NoSuchBucket') {
      return { committed: [], broken: [], leftovers: [], uploads: 0 };
    }
    throw error;
  }
  const sizes = new Map(objects.map((object) => [object.Key ?? '', object.Size ?? -1]));
  const committed = [...sizes.keys()]
    .filter((key) => key.endsWith('/manifest.json'))
    .map((key) => key.slice(0, -'manifest.json'.length))
    .sort();
  const broken: string[] = [];
  const claimed = new Set<string>();
  for (const key of committed) {
    claimed.add(`${key}manifest.json`);
    const manifest = await readManifest(bucket, `${key}manifest.json`);
    const whole = manifest.objects.every((object) => {
      claimed.add(`${key}${object.name}`);
      return sizes.get(`${key}${object.name}`) === object.sizeBytes;
    });
    if (!whole) broken.push(key);
  }
  const leftovers = [...sizes.keys()].filter((key) => !claimed.has(key)).sort();
  const uploads = (await uploadsUnder(bucket, prefix)).length;
  return { committed, broken, leftovers, uploads };
}

/**
 * The invariants every row holds: no backup committed before the fault is gone (unless the
 * row expects rotation to have pruned it), and no committed backup is partial.
 */
export function expectNothingLost(
  before: CatalogState,
  after: CatalogState,
  mayBePruned: readonly string[] = [],
): void {
  for (const key of before.committed) {
    if (!mayBePruned.includes(key)) expect(after.committed, `lost ${key}`).toContain(key);
  }
  expect(after.broken, 'a partial backup is listed as committed').toEqual([]);
}

/** Creates a bucket of its own for a row (its name must be a valid S3 bucket name). */
export async function createBucket(name: string): Promise<void> {
  await testS3Client().send(new CreateBucketCommand({ Bucket: name }));
}

/** Empties and deletes a bucket (uploads aborted first), as a person wiping it would. */
export async function deleteBucket(name: string): Promise<void> {
  const client = testS3Client();
  for (const upload of await uploadsUnder(name, '').catch(() => [])) {
    await client
      .send(
        new AbortMultipartUploadCommand({
          Bucket: name,
          Key: upload.Key,
          UploadId: upload.UploadId,
        }),
      )
      .catch(() => undefined);
  }
  const objects = await listObjects(name, '').catch(() => []);
  for (let start = 0; start < objects.length; start += 1000) {
    const batch = objects.slice(start, start + 1000).map((object) => ({ Key: object.Key }));
    await client.send(new DeleteObjectsCommand({ Bucket: name, Delete: { Objects: batch } }));
  }
  await client.send(new DeleteBucketCommand({ Bucket: name })).catch((error: unknown) => {
    if ((error as { name?: string }).name !== 'NoSuchBucket') throw error;
  });
}

/**
 * Copies every object under one prefix to the same key under another (server-side), so a row
 * starts with a committed backup the runner really took, without a run of its own.
 */
export async function copyPrefix(
  from: { bucket: string; prefix: string },
  to: { bucket: string; prefix: string },
): Promise<void> {
  const client = testS3Client();
  for (const object of await listObjects(from.bucket, from.prefix)) {
    const key = object.Key ?? '';
    await client.send(
      new CopyObjectCommand({
        Bucket: to.bucket,
        Key: `${to.prefix}${key.slice(from.prefix.length)}`,
        CopySource: `${from.bucket}/${key}`,
      }),
    );
  }
}

/** Local-volume backups (directories with a manifest.json) and those missing data. */
export interface LocalCatalogState {
  readonly committed: readonly string[];
  readonly broken: readonly string[];
}

async function manifestDirs(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true }).catch(() => []);
  return entries
    .filter((entry) => entry.isFile() && entry.name === 'manifest.json')
    .map((entry) => entry.parentPath);
}

/** Reads the local copy's catalog the same way: a backup is a directory with a manifest. */
export async function readLocalCatalog(dir: string): Promise<LocalCatalogState> {
  const committed = (await manifestDirs(dir)).sort();
  const broken: string[] = [];
  for (const backup of committed) {
    const manifest = JSON.parse(
      await readFile(join(backup, 'manifest.json'), 'utf8'),
    ) as BackupManifest;
    for (const object of manifest.objects) {
      const size = await stat(join(backup, object.name)).then(
        (info) => info.size,
        () => -1,
      );
      if (size !== object.sizeBytes) {
        broken.push(backup);
        break;
      }
    }
  }
  return { committed, broken };
}
