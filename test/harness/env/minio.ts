/**
 * MinIO, the S3-compatible server, built from its Go module; one bucket is created for the
 * environment. Root credentials reach it through its environment, never its command line.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { CreateBucketCommand, HeadBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { addresses, names } from './layout.js';
import { logFile, runningPid, startDaemon, stopDaemon, waitUntil } from './processes.js';
import type { Secrets } from './secrets.js';

/** The endpoint URL of the local S3-compatible server. */
export function minioEndpoint(): string {
  return `http://${addresses.minio.host}:${addresses.minio.port}`;
}

/** An S3 client for the local server, configured as the operator configures one for MinIO. */
export function localS3Client(secrets: Secrets): S3Client {
  return new S3Client({
    endpoint: minioEndpoint(),
    region: names.s3Region,
    forcePathStyle: true,
    credentials: { accessKeyId: secrets.s3AccessKeyId, secretAccessKey: secrets.s3SecretAccessKey },
  });
}

async function ensureBucket(client: S3Client): Promise<void> {
  try {
    await client.send(new HeadBucketCommand({ Bucket: names.bucket }));
  } catch {
    await client.send(new CreateBucketCommand({ Bucket: names.bucket }));
  }
}

/** Starts MinIO (if it is not running) and makes sure the bucket exists. */
export async function startMinio(state: string, binary: string, secrets: Secrets): Promise<void> {
  const data = join(state, 'minio');
  mkdirSync(data, { recursive: true });
  if (runningPid(state, 'minio') === undefined) {
    startDaemon(state, {
      name: 'minio',
      command: binary,
      args: [
        'server',
        '--quiet',
        '--address',
        `${addresses.minio.host}:${addresses.minio.port}`,
        '--console-address',
        `${addresses.minio.host}:${addresses.minio.port + 1}`,
        data,
      ],
      env: {
        MINIO_ROOT_USER: secrets.s3AccessKeyId,
        MINIO_ROOT_PASSWORD: secrets.s3SecretAccessKey,
        MINIO_BROWSER: 'off',
        MINIO_UPDATE: 'off',
        HOME: state,
      },
    });
  }
  await waitUntil(
    `MinIO on ${minioEndpoint()}`,
    async () => (await fetch(`${minioEndpoint()}/minio/health/ready`)).ok,
    { timeoutMs: 60_000, log: logFile(state, 'minio') },
  );
  const client = localS3Client(secrets);
  try {
    await ensureBucket(client);
  } finally {
    client.destroy();
  }
}

/** Stops MinIO. */
export async function stopMinio(state: string): Promise<void> {
  await stopDaemon(state, 'minio');
}
