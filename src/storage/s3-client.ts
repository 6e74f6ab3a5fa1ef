/**
 * The one place an S3 client is built and an S3 failure is turned into a message: the
 * artifact store and the WAL store share both.
 */
import { S3Client, type ServerSideEncryption } from '@aws-sdk/client-s3';
import { StorageError } from './errors.js';

/** When the SDK adds checksums to requests: only where S3 requires them, or wherever it can. */
export type RequestChecksumCalculation = 'WHEN_REQUIRED' | 'WHEN_SUPPORTED';

/** Where and how to reach the bucket. */
export interface S3StoreConfig {
  readonly bucket: string;
  readonly region: string;
  /** Empty for AWS itself. */
  readonly endpoint: string;
  readonly forcePathStyle: boolean;
  /** Omitted: the AWS SDK's default chain (environment, profile, IAM role). */
  readonly credentials?: { readonly accessKeyId: string; readonly secretAccessKey: string };
  /** Where the credentials come from, for messages, e.g. `Secret db/s3` or `the AWS SDK's default chain`. */
  readonly credentialsSource: string;
  readonly serverSideEncryption?: { readonly algorithm: string; readonly kmsKeyId?: string };
  /**
   * The SDK's request checksums. Recent SDKs default to `WHEN_SUPPORTED`, which sends CRC
   * checksums and trailers that several S3-compatible servers reject; `WHEN_REQUIRED` (our
   * default) works with AWS and MinIO alike.
   */
  readonly requestChecksumCalculation?: RequestChecksumCalculation;
  /** Parts uploaded at once; memory is bounded by part size × this. Default UPLOAD_QUEUE_SIZE (2). */
  readonly queueSize?: number;
}

/**
 * The client for `config`. `maxAttempts` overrides the SDK's retries: a request whose body is
 * a stream cannot be retried by the SDK (the stream is spent), so its caller retries instead.
 */
export function createS3Client(
  config: S3StoreConfig,
  options: { readonly maxAttempts?: number } = {},
): S3Client {
  const checksums = config.requestChecksumCalculation ?? 'WHEN_REQUIRED';
  return new S3Client({
    region: config.region,
    ...(config.endpoint === '' ? {} : { endpoint: config.endpoint }),
    forcePathStyle: config.forcePathStyle,
    ...(config.credentials === undefined ? {} : { credentials: config.credentials }),
    requestChecksumCalculation: checksums,
    responseChecksumValidation: checksums,
    ...(options.maxAttempts === undefined ? {} : { maxAttempts: options.maxAttempts }),
  });
}

/** `s3://bucket/key-prefix (endpoint)`: the bucket (or a place in it) as messages name it. */
export function describeBucket(config: S3StoreConfig, keyPrefix = ''): string {
  const where = config.endpoint === '' ? 'AWS S3' : config.endpoint;
  return `s3://${config.bucket}${keyPrefix === '' ? '' : `/${keyPrefix}`} (${where})`;
}

/** The HTTP status of an SDK error, when it has one. */
export function s3StatusOf(error: unknown): number | undefined {
  if (typeof error !== 'object' || error === null || !('$metadata' in error)) return undefined;
  const metadata = error.$metadata;
  return typeof metadata === 'object' && metadata !== null && 'httpStatusCode' in metadata
    ? Number(metadata.httpStatusCode)
    : undefined;
}

function reasonOf(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  return error.message === '' || error.message === 'UnknownError' ? error.name : error.message;
}

/** The server-side encryption parameters of a write, from the config. */
export function encryptionOf(config: S3StoreConfig): {
  ServerSideEncryption?: ServerSideEncryption;
  SSEKMSKeyId?: string;
} {
  const sse = config.serverSideEncryption;
  if (sse === undefined) return {};
  return {
    ServerSideEncryption: sse.algorithm as ServerSideEncryption,
    ...(sse.kmsKeyId === undefined ? {} : { SSEKMSKeyId: sse.kmsKeyId }),
  };
}

/** The StorageError for a failed request: a missing bucket and denied access name their fix. */
export function s3Failure(config: S3StoreConfig, action: string, error: unknown): StorageError {
  const status = s3StatusOf(error);
  const { bucket, credentialsSource } = config;
  const description = describeBucket(config);
  if (status === 404 && /bucket/i.test(reasonOf(error) + String((error as Error)?.name))) {
    return new StorageError(
      `bucket "${bucket}" does not exist at ${description}: create it, or correct spec.storage.s3.bucket (and endpoint/region)`,
      { cause: error },
    );
  }
  if (status === 403) {
    return new StorageError(
      `access denied to bucket "${bucket}" at ${description} while trying to ${action}: grant the credentials from ${credentialsSource} read, write, list and delete on the bucket, or correct them`,
      { cause: error },
    );
  }
  return new StorageError(
    `could not ${action} in bucket "${bucket}" at ${description}: ${reasonOf(error)}`,
    { cause: error },
  );
}
