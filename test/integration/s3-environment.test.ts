import { createHash, randomBytes } from 'node:crypto';
import {
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { afterAll, describe, expect, it } from 'vitest';
import { testBucket, testPrefix, testS3Client } from '../harness/s3.js';
import { requireEnv } from '../harness/variables.js';

describe('the S3-compatible server', () => {
  const client = testS3Client();
  afterAll(() => client.destroy());

  it('returns an object byte for byte as it was put', async () => {
    const body = randomBytes(3 * 1024 * 1024 + 17);
    const key = `${testPrefix()}/roundtrip.bin`;
    await client.send(new PutObjectCommand({ Bucket: testBucket(), Key: key, Body: body }));

    const head = await client.send(new HeadObjectCommand({ Bucket: testBucket(), Key: key }));
    expect(head.ContentLength).toBe(body.length);
    const got = await client.send(new GetObjectCommand({ Bucket: testBucket(), Key: key }));
    const bytes = Buffer.from((await got.Body?.transformToByteArray()) ?? []);
    expect(bytes.length).toBe(body.length);
    expect(createHash('sha256').update(bytes).digest('hex')).toBe(
      createHash('sha256').update(body).digest('hex'),
    );
    expect(bytes.equals(body)).toBe(true);
  });

  it('refuses a request signed with the wrong secret', async () => {
    const impostor = new S3Client({
      endpoint: requireEnv('PGBACKUP_S3_ENDPOINT'),
      region: requireEnv('AWS_REGION'),
      forcePathStyle: true,
      credentials: { accessKeyId: requireEnv('AWS_ACCESS_KEY_ID'), secretAccessKey: 'wrong' },
    });
    try {
      await expect(
        impostor.send(
          new PutObjectCommand({ Bucket: testBucket(), Key: `${testPrefix()}/x`, Body: 'x' }),
        ),
      ).rejects.toThrow(/signature/i);
    } finally {
      impostor.destroy();
    }
  });
});
