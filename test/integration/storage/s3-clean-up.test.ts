/**
 * Clean-up of the bucket (DESIGN.md §3) against the real S3-compatible server: a run aborts
 * only unfinished uploads and deletes only manifest-less objects from before the cutoff the
 * run deadline gives, never those of a run that may still be alive (another runner that lost
 * the lock, or a Lease that was taken over).
 */
import {
  CreateMultipartUploadCommand,
  ListMultipartUploadsCommand,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import { afterAll, describe, expect, it } from 'vitest';
import { testBucket, testPrefix, testS3Client, testS3Store } from '../../harness/s3.js';

const HOUR_MS = 60 * 60 * 1000;

describe('the S3 store clean-up', () => {
  const client = testS3Client();
  afterAll(() => client.destroy());

  /** Starts an upload the way a run streaming a backup does; returns its key. */
  async function startUpload(key: string): Promise<void> {
    await client.send(new CreateMultipartUploadCommand({ Bucket: testBucket(), Key: key }));
  }

  async function uploadsUnder(prefix: string): Promise<string[]> {
    const page = await client.send(new ListMultipartUploadsCommand({ Bucket: testBucket() }));
    return (page.Uploads ?? []).flatMap(({ Key }) => (Key?.startsWith(prefix) ? [Key] : []));
  }

  it("leaves a live run's upload and objects, started after the cutoff, in place", async () => {
    const prefix = `${testPrefix()}/db/orders/binary/`;
    const live = `${prefix}daily/3/20261203T010000Z-live/base.tar.gz`;
    const written = `${prefix}daily/3/20261203T010000Z-live/backup_manifest`;
    await startUpload(live);
    await client.send(new PutObjectCommand({ Bucket: testBucket(), Key: written, Body: 'x' }));

    const report = await testS3Store().cleanUp(prefix, Date.now() - 24 * HOUR_MS);

    expect(report).toEqual({ abortedUploads: [], deletedObjects: [] });
    expect(await uploadsUnder(prefix)).toEqual([live]);
    // Leave the shared bucket as it was: the "live" run has ended now.
    await testS3Store().cleanUp(prefix, Date.now() + 60_000);
  });

  it("aborts a dead run's upload and deletes its objects, both from before the cutoff", async () => {
    const prefix = `${testPrefix()}/db/orders/binary/`;
    const dead = `${prefix}daily/2/20261202T010000Z-dead/base.tar.gz`;
    const written = `${prefix}daily/2/20261202T010000Z-dead/backup_manifest`;
    await startUpload(dead);
    await client.send(new PutObjectCommand({ Bucket: testBucket(), Key: written, Body: 'x' }));

    // The server dates uploads by its own clock: a cutoff a minute ahead of ours makes what
    // was just started count as older than the run deadline.
    const report = await testS3Store().cleanUp(prefix, Date.now() + 60_000);

    expect(report).toEqual({ abortedUploads: [dead], deletedObjects: [written] });
    expect(await uploadsUnder(prefix)).toEqual([]);
  });
});
