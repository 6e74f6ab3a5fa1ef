/**
 * `pgbackup run -f POLICY.yaml`: the run's inputs outside a cluster. Hosts come from
 * spec.target.hosts, the PostgreSQL login from libpq's environment (or its password file),
 * S3 credentials from the AWS SDK's default chain.
 */
import type { BackupPolicy, BackupPolicySpec } from '../api/index.js';
import { type Credentials, parseEndpoint } from '../postgres/index.js';
import { s3StoreConfigOf } from '../runner/index.js';
import {
  type ArtifactStore,
  createS3Store,
  type RequestChecksumCalculation,
} from '../storage/index.js';
import { UsageError } from './command.js';

/** The PostgreSQL side of a run outside a cluster. */
export interface FileModeTarget {
  readonly endpoints: ReturnType<typeof parseEndpoint>[];
  readonly selection: string;
  readonly credentials: Credentials;
  readonly replicationCredentials: Credentials;
}

/**
 * A login from libpq-style environment variables: the user from `userVariable`, the password
 * from `passwordVariable` or else libpq's password file; `undefined` when the user is unset.
 */
export function credentialsFrom(
  env: NodeJS.ProcessEnv,
  userVariable: string,
  passwordVariable: string,
): Credentials | undefined {
  const username = env[userVariable];
  if (username === undefined || username === '') return undefined;
  const password = env[passwordVariable];
  const hasPassword = password !== undefined && password !== '';
  return {
    username,
    ...(hasPassword ? { password } : {}),
    source: hasPassword
      ? `environment variables ${userVariable} and ${passwordVariable}`
      : `environment variable ${userVariable} and the libpq password file (PGPASSFILE or ~/.pgpass)`,
  };
}

/** Reads the target of a policy file and the login from the environment. */
export function fileModeTarget(policy: BackupPolicy, env: NodeJS.ProcessEnv): FileModeTarget {
  const { target } = policy.spec;
  if (target.hosts === undefined) {
    throw new UsageError(
      'outside a cluster (-f) the policy must list spec.target.hosts; selectors and presets need the cluster: use --policy NAMESPACE/NAME',
    );
  }
  const credentials = credentialsFrom(env, 'PGUSER', 'PGPASSWORD');
  if (credentials === undefined) {
    throw new UsageError(
      'set PGUSER (and PGPASSWORD, or a libpq password file) to the role the runner logs in as',
    );
  }
  const replication =
    credentialsFrom(env, 'PGBACKUP_REPLICATION_USER', 'PGBACKUP_REPLICATION_PASSWORD') ??
    credentials;
  return {
    endpoints: target.hosts.map((host) => parseEndpoint(host, target.port)),
    selection: `spec.target.hosts (${target.hosts.join(', ')})`,
    credentials,
    replicationCredentials: replication,
  };
}

/**
 * The SDK's request-checksum setting: `AWS_REQUEST_CHECKSUM_CALCULATION` (the SDK's own
 * variable, `when_supported` or `when_required`), else `WHEN_REQUIRED`, which AWS and
 * S3-compatible servers such as MinIO all accept.
 */
export function requestChecksumFrom(env: NodeJS.ProcessEnv): RequestChecksumCalculation {
  return env.AWS_REQUEST_CHECKSUM_CALCULATION?.toUpperCase() === 'WHEN_SUPPORTED'
    ? 'WHEN_SUPPORTED'
    : 'WHEN_REQUIRED';
}

/**
 * The policy's bucket outside a cluster: S3 credentials from the AWS SDK's default chain,
 * request checksums from {@link requestChecksumFrom}.
 */
export function fileModeS3Store(
  s3: NonNullable<BackupPolicySpec['storage']>['s3'],
  env: NodeJS.ProcessEnv,
): ArtifactStore {
  const credentials = {
    source:
      "the AWS SDK's default chain (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, a profile or a role)",
  };
  return createS3Store(s3StoreConfigOf(s3, credentials, requestChecksumFrom(env)));
}
