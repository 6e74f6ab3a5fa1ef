/** The S3 store's configuration from a policy's `spec.storage.s3`. */
import type { BackupPolicySpec } from '../api/index.js';
import type { RequestChecksumCalculation, S3StoreConfig } from '../storage/index.js';

/** A policy's bucket settings. */
export type S3Spec = NonNullable<BackupPolicySpec['storage']>['s3'];

/** Where the S3 credentials come from. */
export interface S3Credentials {
  readonly keys?: { readonly accessKeyId: string; readonly secretAccessKey: string };
  readonly source: string;
}

/** Builds the store configuration. */
export function s3StoreConfigOf(
  s3: S3Spec,
  credentials: S3Credentials,
  requestChecksumCalculation: RequestChecksumCalculation,
): S3StoreConfig {
  return {
    bucket: s3.bucket,
    region: s3.region,
    endpoint: s3.endpoint,
    forcePathStyle: s3.forcePathStyle,
    ...(credentials.keys === undefined ? {} : { credentials: credentials.keys }),
    credentialsSource: credentials.source,
    ...(s3.serverSideEncryption === undefined
      ? {}
      : { serverSideEncryption: s3.serverSideEncryption }),
    requestChecksumCalculation,
  };
}
