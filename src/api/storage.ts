import * as z from 'zod';
import { withRules } from './cross-field-rule.js';
import { encryptionSchema } from './encryption.js';
import { closedObject, secretReference } from './fields.js';

/** An S3 bucket name. */
export const BUCKET_PATTERN = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/** Key prefix: segments of S3-safe characters separated by single slashes, no leading slash. */
export const PREFIX_PATTERN = /^([A-Za-z0-9!_.*'()-]+(\/[A-Za-z0-9!_.*'()-]+)*)?$/;

/** An http(s) URL, or empty for AWS itself. */
export const ENDPOINT_PATTERN = /^(https?:\/\/[^\s/]+(\/[^\s]*)?)?$/;

/** Server-side encryption algorithms S3 understands. */
export const SSE_ALGORITHMS = ['AES256', 'aws:kms'] as const;

const serverSideEncryption = withRules(
  closedObject({
    algorithm: z
      .enum(SSE_ALGORITHMS)
      .describe('AES256 (keys managed by S3) or aws:kms (keys managed by KMS).'),
    kmsKeyId: z
      .string()
      .min(1)
      .max(2048)
      .optional()
      .describe("KMS key ID or ARN, for aws:kms only. Omitted: the bucket's default KMS key."),
  }),
  [
    {
      cel: "!has(self.kmsKeyId) || self.algorithm == 'aws:kms'",
      message: 'kmsKeyId is only allowed with algorithm aws:kms',
      field: ['kmsKeyId'],
      reason: 'FieldValueForbidden',
      check: (sse) => sse.kmsKeyId === undefined || sse.algorithm === 'aws:kms',
    },
  ],
).describe("Ask S3 to encrypt stored objects. Omitted: the bucket's default.");

const s3 = closedObject({
  bucket: z
    .string()
    .regex(BUCKET_PATTERN, {
      error: 'must be an S3 bucket name: 3 to 63 lowercase letters, digits, "." and "-"',
    })
    .describe('Bucket the backups are written to. It must exist.'),
  prefix: z
    .string()
    .max(256)
    .regex(PREFIX_PATTERN, {
      error: 'must be key segments separated by "/", without a leading or trailing "/"',
    })
    .default('')
    .describe(
      'Key prefix under which backups are stored, as <prefix>/<namespace>/<policy>/<type>/<line>/<slot>/. Empty: the bucket root.',
    ),
  region: z
    .string()
    .min(1)
    .max(64)
    .regex(/^[A-Za-z0-9_-]+$/, { error: 'must be a region name such as "us-east-1"' })
    .default('us-east-1')
    .describe('Region of the bucket.'),
  endpoint: z
    .string()
    .max(1024)
    .regex(ENDPOINT_PATTERN, { error: 'must be an http:// or https:// URL, or empty' })
    .default('')
    .describe(
      'URL of an S3-compatible server such as MinIO, e.g. "https://minio.storage:9000". Empty: AWS S3.',
    ),
  forcePathStyle: z
    .boolean()
    .default(false)
    .describe(
      'Address the bucket as <endpoint>/<bucket> instead of <bucket>.<endpoint>; most S3-compatible servers need this.',
    ),
  credentials: secretReference(
    'Secret with the keys "accessKeyId" and "secretAccessKey". Omitted: the AWS SDK\'s default chain (for example IAM roles for service accounts).',
  ).optional(),
  serverSideEncryption: serverSideEncryption.optional(),
}).describe('An S3 or S3-compatible bucket.');

/** Where backups are stored. */
export const storageSchema = closedObject({
  s3: s3,
  encryption: encryptionSchema.optional(),
}).describe(
  'Where backups are stored. Required while binary or logical backups are enabled. The bucket alone is a complete catalog: the CLI can list and restore from it without the cluster.',
);
