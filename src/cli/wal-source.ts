/**
 * Where the WAL commands (`wal-fetch`, `wal-status`, `wal-prune`) find a policy's WAL: its
 * bucket, reached as `restore` reaches it. A policy file's bucket with the AWS SDK's default
 * chain; a cluster policy's with the Secret it names, read through the caller's kubeconfig.
 */
import type { BackupPolicy } from '../api/index.js';
import { readPolicy, readS3Credentials } from '../runner/cluster-sources.js';
import { type S3Credentials, s3StoreConfigOf } from '../runner/store-config.js';
import {
  type ArtifactStore,
  createS3Store,
  createWalStore,
  type WalStore,
  walKeyPrefix,
} from '../storage/index.js';
import { withClusterClient } from './cluster-client.js';
import { UsageError } from './command.js';
import { readPolicyFile } from './plan-policy-file.js';
import type { PolicySource } from './run-arguments.js';
import { requestChecksumFrom } from './run-file-mode.js';

/** A policy's WAL and the backups WAL retention anchors on. */
export interface WalSource {
  readonly policy: BackupPolicy;
  readonly namespace: string;
  readonly name: string;
  /** `spec.storage.s3.prefix`. */
  readonly prefix: string;
  readonly walStore: WalStore;
  readonly backups: ArtifactStore;
}

const SDK_CHAIN =
  "the AWS SDK's default chain (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, a profile or a role)";

function sourceOf(
  policy: BackupPolicy,
  namespace: string,
  credentials: S3Credentials,
  where: string,
): WalSource {
  const s3 = policy.spec.storage?.s3;
  if (s3 === undefined) {
    throw new UsageError(`${where}: spec.storage.s3 is required: the WAL is in the bucket`);
  }
  const name = policy.metadata.name ?? 'unnamed';
  const config = s3StoreConfigOf(s3, credentials, requestChecksumFrom(process.env));
  return {
    policy,
    namespace,
    name,
    prefix: s3.prefix,
    walStore: createWalStore(config, walKeyPrefix({ prefix: s3.prefix, namespace, policy: name })),
    backups: createS3Store(config),
  };
}

/** Opens the policy's WAL store and its backups' store. */
export async function openWalSource(source: PolicySource): Promise<WalSource> {
  if (source.kind === 'file') {
    const policy = await readPolicyFile(source.file);
    const namespace = policy.metadata.namespace ?? 'default';
    return sourceOf(policy, namespace, { source: SDK_CHAIN }, source.file);
  }
  return withClusterClient(async (client) => {
    const policy = await readPolicy(client, source.namespace, source.name);
    const credentials = await readS3Credentials(client, source.namespace, policy);
    return sourceOf(
      policy,
      source.namespace,
      credentials,
      `BackupPolicy ${source.namespace}/${source.name}`,
    );
  });
}
