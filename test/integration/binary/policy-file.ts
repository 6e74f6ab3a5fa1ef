/**
 * Policy fixtures for the binary tests: a YAML file under test/fixtures/binary/, with the
 * test's own namespace, bucket prefix, hosts and endpoint written in at run time.
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  GetObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
} from '@aws-sdk/client-s3';
import { stringify } from 'yaml';
import { fixtureYaml } from '../../harness/fixtures.js';
import { superuserClient, withClient } from '../../harness/postgres.js';
import { testBucket, testPrefix, testS3Client } from '../../harness/s3.js';
import { requireEnv, uniqueSuffix } from '../../harness/variables.js';

/** A policy written for one test. */
export interface TestPolicy {
  readonly file: string;
  readonly namespace: string;
  readonly name: string;
  readonly prefix: string;
  /** `<prefix>/<namespace>/<name>/binary/`. */
  readonly binaryPrefix: string;
  readonly localDir: string;
}

interface PolicyDocument {
  metadata: { name: string; namespace: string };
  spec: {
    target: { hosts: string[] };
    storage: { s3: Record<string, unknown> };
    [field: string]: unknown;
  };
}

/** Writes a fixture with the test's variables; `edit` may change more fields. */
export async function writeTestPolicy(
  fixture: string,
  edit: (policy: PolicyDocument) => void = () => undefined,
): Promise<TestPolicy> {
  const policy = fixtureYaml<PolicyDocument>(`binary/${fixture}`);
  const namespace = `test-${uniqueSuffix()}`;
  const prefix = testPrefix();
  policy.metadata.namespace = namespace;
  policy.spec.target.hosts = [requireEnv('PGBACKUP_REPLICA'), requireEnv('PGBACKUP_PRIMARY')];
  Object.assign(policy.spec.storage.s3, {
    bucket: testBucket(),
    prefix,
    endpoint: requireEnv('PGBACKUP_S3_ENDPOINT'),
    region: requireEnv('AWS_REGION'),
    forcePathStyle: true,
  });
  edit(policy);
  const dir = await mkdtemp(join(tmpdir(), 'pgbackup-binary-test-'));
  const file = join(dir, 'policy.yaml');
  await writeFile(file, stringify(policy));
  const name = policy.metadata.name;
  return {
    file,
    namespace,
    name,
    prefix,
    binaryPrefix: `${prefix}/${namespace}/${name}/binary/`,
    localDir: join(dir, 'local'),
  };
}

/** The keys under a prefix. */
export async function listKeys(prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await testS3Client().send(
      new ListObjectsV2Command({ Bucket: testBucket(), Prefix: prefix, ContinuationToken: token }),
    );
    keys.push(...(page.Contents ?? []).flatMap((object) => object.Key ?? []));
    token = page.IsTruncated === true ? page.NextContinuationToken : undefined;
  } while (token !== undefined);
  return keys.sort();
}

/** The committed backups (key prefixes with a manifest) under a prefix. */
export async function listCommitted(prefix: string): Promise<string[]> {
  return (await listKeys(prefix))
    .filter((key) => key.endsWith('/manifest.json'))
    .map((key) => key.slice(0, -'manifest.json'.length));
}

/**
 * Unfinished multipart uploads under a prefix; the whole bucket is listed because MinIO
 * answers a prefix only when it is an exact key.
 */
export async function listUploads(prefix: string): Promise<string[]> {
  const page = await testS3Client().send(new ListMultipartUploadsCommand({ Bucket: testBucket() }));
  return (page.Uploads ?? []).flatMap((upload) =>
    upload.Key?.startsWith(prefix) === true ? [upload.Key] : [],
  );
}

/** The arguments of a run of a line of the test's policy. */
export function runArgs(policy: TestPolicy, line: string, at: string): string[] {
  return [
    '--type',
    'binary',
    '--line',
    line,
    '-f',
    policy.file,
    '--at',
    at,
    '--local-dir',
    policy.localDir,
  ];
}

/** Drops a test database, so later backups of the whole server stay small. */
export async function dropTestDatabase(database: string): Promise<void> {
  await withClient(superuserClient('primary'), (client) =>
    client.query(`DROP DATABASE IF EXISTS ${client.escapeIdentifier(database)} WITH (FORCE)`),
  );
}

/** The text of an object. */
export async function readObjectText(key: string): Promise<string> {
  const object = await testS3Client().send(
    new GetObjectCommand({ Bucket: testBucket(), Key: key }),
  );
  return (await object.Body?.transformToString('utf8')) ?? '';
}
