/** The S3-compatible server as tests use it: a client and a fresh key prefix per test. */
import { S3Client } from '@aws-sdk/client-s3';
import { type ArtifactStore, createS3Store } from '../../src/storage/index.js';
import { requireEnv, uniqueSuffix } from './variables.js';

/** An S3 client for the environment's server; credentials come from the usual AWS variables. */
export function testS3Client(): S3Client {
  return new S3Client({
    endpoint: requireEnv('PGBACKUP_S3_ENDPOINT'),
    region: requireEnv('AWS_REGION'),
    forcePathStyle: true,
  });
}

/** The environment's bucket. */
export function testBucket(): string {
  return requireEnv('PGBACKUP_S3_BUCKET');
}

/** A key prefix no other test uses. */
export function testPrefix(): string {
  return `tests/${uniqueSuffix()}`;
}

/** The environment's bucket as the runner's artifact store sees it. */
export function testS3Store(): ArtifactStore {
  return createS3Store({
    bucket: testBucket(),
    region: requireEnv('AWS_REGION'),
    endpoint: requireEnv('PGBACKUP_S3_ENDPOINT'),
    forcePathStyle: true,
    credentialsSource: 'the environment',
  });
}
