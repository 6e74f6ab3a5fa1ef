/**
 * Where the commands that read backups back (`list`, `restore`) find them: the bucket of a
 * policy file (with the cluster gone, the bucket alone is the catalog) or of a policy in a
 * cluster, or a runner's local volume laid out the same way.
 */
import { stat } from 'node:fs/promises';
import type { BackupPolicy } from '../api/index.js';
import type { PolicyBackups } from '../runner/backup-choice.js';
import { openPolicyBucket, readPolicy } from '../runner/cluster-sources.js';
import { createLocalStore } from '../storage/index.js';
import { withClusterClient } from './cluster-client.js';
import { UsageError } from './command.js';
import { readPolicyFile } from './plan-policy-file.js';
import type { PolicySource } from './run-arguments.js';
import { fileModeS3Store, requestChecksumFrom } from './run-file-mode.js';

/** A policy's backups: where they are kept and under which key prefix. */
export type BackupSource = PolicyBackups;

/** Refuses a local volume that is not there: it would list nothing and look like an empty catalog. */
async function checkLocalDir(localDir: string): Promise<void> {
  const found = await stat(localDir).catch(() => undefined);
  if (found === undefined || !found.isDirectory()) {
    throw new Error(
      `--local-dir ${localDir} is not a directory: give the directory the runner's local volume is mounted at`,
    );
  }
}

function localSource(policy: BackupPolicy, namespace: string, localDir: string): BackupSource {
  return {
    namespace,
    policy: policy.metadata.name ?? 'unnamed',
    prefix: policy.spec.storage?.s3.prefix ?? '',
    store: createLocalStore(localDir),
  };
}

/**
 * Opens the store holding the policy's backups: its S3 bucket, or with `localDir` the local
 * volume at that path. A policy file's bucket is reached with the AWS SDK's default chain; a
 * cluster policy's with the Secret it names, read through the caller's kubeconfig.
 *
 * @throws UsageError when a policy file names no bucket and no local directory is given;
 *   Error when the local directory is not one
 */
export async function openBackupSource(
  source: PolicySource,
  localDir: string | undefined,
): Promise<BackupSource> {
  if (localDir !== undefined) await checkLocalDir(localDir);
  if (source.kind === 'file') {
    const policy = await readPolicyFile(source.file);
    const namespace = policy.metadata.namespace ?? 'default';
    if (localDir !== undefined) return localSource(policy, namespace, localDir);
    const s3 = policy.spec.storage?.s3;
    if (s3 === undefined) {
      throw new UsageError(
        `${source.file}: spec.storage.s3 is required to find the backups in the bucket (or give --local-dir for a local volume)`,
      );
    }
    return {
      namespace,
      policy: policy.metadata.name ?? 'unnamed',
      prefix: s3.prefix,
      store: fileModeS3Store(s3, process.env),
    };
  }
  return withClusterClient(async (client) => {
    const policy = await readPolicy(client, source.namespace, source.name);
    if (localDir !== undefined) return localSource(policy, source.namespace, localDir);
    const input = {
      client,
      namespace: source.namespace,
      policy: source.name,
      requestChecksumCalculation: requestChecksumFrom(process.env),
    };
    const { prefix, store } = await openPolicyBucket(input, policy);
    return { namespace: source.namespace, policy: source.name, prefix, store };
  });
}
