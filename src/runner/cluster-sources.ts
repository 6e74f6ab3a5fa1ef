/**
 * What an in-cluster run reads through the API with its own service account: the policy, the
 * Secrets it names, and the pods its target selects.
 */
import { type BackupPolicy, formatIssues, parseBackupPolicy } from '../api/index.js';
import type { KubeClient } from '../kube/kube-client.js';
import { RESOURCES, resourcePath } from '../kube/resource.js';
import { type Credentials, type Endpoint, parseEndpoint } from '../postgres/index.js';
import {
  type ArtifactStore,
  createS3Store,
  type RequestChecksumCalculation,
} from '../storage/index.js';
import { RunError } from './errors.js';
import { labelSelectorOf } from './pod-selector.js';
import { type S3Credentials, type S3Spec, s3StoreConfigOf } from './store-config.js';

/** Reads and validates the policy. */
export async function readPolicy(
  client: KubeClient,
  namespace: string,
  name: string,
): Promise<BackupPolicy> {
  const object = await client.request<unknown>({
    verb: 'get',
    path: resourcePath(RESOURCES.backupPolicy, { namespace, name }),
    what: `get BackupPolicy ${namespace}/${name}`,
  });
  const parsed = parseBackupPolicy(object);
  if (!parsed.ok) {
    throw new RunError(
      `BackupPolicy ${namespace}/${name} is not valid:\n${formatIssues('BackupPolicy', name, parsed.issues)}`,
    );
  }
  return parsed.value;
}

/** The decoded keys of a Secret. */
export async function readSecretKeys(
  client: KubeClient,
  namespace: string,
  name: string,
): Promise<Record<string, string>> {
  const secret = await client.request<{ data?: Record<string, string> }>({
    verb: 'get',
    path: resourcePath(RESOURCES.secret, { namespace, name }),
    what: `get Secret ${namespace}/${name}`,
  });
  return Object.fromEntries(
    Object.entries(secret.data ?? {}).map(([key, value]) => [
      key,
      Buffer.from(value, 'base64').toString('utf8'),
    ]),
  );
}

/** Two keys of a Secret, or an error naming the Secret and the missing key. */
export async function readSecretPair<A extends string, B extends string>(
  client: KubeClient,
  secret: { namespace: string; name: string },
  keys: readonly [A, B],
): Promise<Record<A | B, string>> {
  const data = await readSecretKeys(client, secret.namespace, secret.name);
  const missing = keys.filter((key) => (data[key] ?? '') === '');
  if (missing.length > 0) {
    throw new RunError(
      `Secret ${secret.namespace}/${secret.name} has no ${missing.map((key) => `"${key}"`).join(' or ')} key: add it`,
    );
  }
  return Object.fromEntries(keys.map((key) => [key, data[key] ?? ''])) as Record<A | B, string>;
}

/** Which policy an in-cluster command works for, and how it reaches the API and the bucket. */
export interface ClusterPolicyInput {
  readonly client: KubeClient;
  readonly namespace: string;
  /** The policy's name. */
  readonly policy: string;
  readonly requestChecksumCalculation: RequestChecksumCalculation;
}

/** The policy's bucket settings, or an error saying the policy needs them. */
export function s3SpecOf(
  input: Pick<ClusterPolicyInput, 'namespace' | 'policy'>,
  policy: BackupPolicy,
): S3Spec {
  const s3 = policy.spec.storage?.s3;
  if (s3 === undefined) {
    throw new RunError(
      `BackupPolicy ${input.namespace}/${input.policy} has no spec.storage.s3: add the bucket`,
    );
  }
  return s3;
}

/**
 * The policy's bucket: its key prefix, and a store with the credentials
 * {@link readS3Credentials} finds.
 */
export async function openPolicyBucket(
  input: ClusterPolicyInput,
  policy: BackupPolicy,
): Promise<{ readonly prefix: string; readonly store: ArtifactStore }> {
  const s3 = s3SpecOf(input, policy);
  const credentials = await readS3Credentials(input.client, input.namespace, policy);
  const config = s3StoreConfigOf(s3, credentials, input.requestChecksumCalculation);
  return { prefix: s3.prefix, store: createS3Store(config) };
}

/**
 * The S3 credentials of a policy's bucket: its Secret's "accessKeyId" and "secretAccessKey",
 * or, with no Secret named, the AWS SDK's default chain.
 */
export async function readS3Credentials(
  client: KubeClient,
  namespace: string,
  policy: BackupPolicy,
): Promise<S3Credentials> {
  const secret = policy.spec.storage?.s3.credentials?.secretName;
  if (secret === undefined) {
    return { source: "the AWS SDK's default chain (for example IAM roles for service accounts)" };
  }
  const keys = await readSecretPair(client, { namespace, name: secret }, [
    'accessKeyId',
    'secretAccessKey',
  ]);
  return {
    keys,
    source: `Secret ${namespace}/${secret} (keys "accessKeyId" and "secretAccessKey")`,
  };
}

/** PostgreSQL credentials from a Secret with "username" and "password". */
export async function readCredentials(
  client: KubeClient,
  namespace: string,
  secretName: string,
): Promise<Credentials> {
  const { username, password } = await readSecretPair(client, { namespace, name: secretName }, [
    'username',
    'password',
  ]);
  return {
    username,
    password,
    source: `Secret ${namespace}/${secretName} (keys "username" and "password")`,
  };
}

interface PodList {
  items: {
    metadata: { name: string; deletionTimestamp?: string };
    status?: { phase?: string; podIP?: string };
  }[];
}

/** The endpoints of a target: its static hosts, or the running pods its selector matches. */
export async function listTargetEndpoints(
  client: KubeClient,
  policy: BackupPolicy,
): Promise<{ endpoints: Endpoint[]; selection: string }> {
  const { target } = policy.spec;
  if (target.hosts !== undefined) {
    return {
      endpoints: target.hosts.map((host) => parseEndpoint(host, target.port)),
      selection: `spec.target.hosts (${target.hosts.join(', ')})`,
    };
  }
  const namespace = policy.metadata.namespace ?? 'default';
  const selector = labelSelectorOf(target) ?? '';
  const pods = await client.request<PodList>({
    verb: 'list',
    path: resourcePath(RESOURCES.pod, { namespace }),
    query: { labelSelector: selector },
    what: `list the pods in namespace ${namespace} matching "${selector}"`,
  });
  const running = pods.items.filter(
    (pod) =>
      pod.status?.phase === 'Running' &&
      pod.status.podIP !== undefined &&
      pod.metadata.deletionTimestamp === undefined,
  );
  const names = pods.items.map(
    (pod) =>
      `${pod.metadata.name} (${pod.status?.phase ?? 'no phase'}, ${pod.status?.podIP ?? 'no IP'})`,
  );
  return {
    endpoints: running.map((pod) => ({ host: pod.status?.podIP ?? '', port: target.port })),
    selection: `the pods in namespace ${namespace} matching "${selector}"${names.length === 0 ? ' (none)' : `: ${names.join(', ')}`}`,
  };
}
