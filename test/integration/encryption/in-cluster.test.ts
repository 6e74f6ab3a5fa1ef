/**
 * An encrypting policy in a cluster: the runner's service account reads the recipients from
 * a Secret and a ConfigMap through the API (its Role names them), can never read the
 * identity's Secret, and what it stores decrypts with stock `age`, with either key.
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BackupPolicy } from '../../../src/api/index.js';
import { fingerprintRecipient } from '../../../src/encryption/index.js';
import { dumpObjectNameOf } from '../../../src/runner/dump-databases.js';
import { kubectlApply, secretObject } from '../../harness/cluster-objects.js';
import { runTool } from '../../harness/env/processes.js';
import { apiFailure } from '../../harness/kube.js';
import { startPgbackupRun } from '../../harness/pgbackup-run.js';
import { createTestDatabase, superuserClient, withClient } from '../../harness/postgres.js';
import { downloadObject } from '../../harness/restore.js';
import { listBackupObjects, setUpRunnerPolicy } from '../../harness/runner-policy.js';
import { testBucket, testS3Client } from '../../harness/s3.js';
import { requireEnv } from '../../harness/variables.js';
import { dropTestDatabase, listCommitted } from '../binary/policy-file.js';
import { readManifest } from '../logical/restore-dump.js';
import { waitForReplica } from '../logical/source-databases.js';
import { generateKeyFile, requireAgeTools } from './age-tool.js';

const IDENTITY_SECRET = 'orders-age-identity';
const RECIPIENTS_SECRET = 'backup-recipients';
const RECIPIENTS_CONFIG_MAP = 'backup-public-keys';

interface KeyPair {
  readonly path: string;
  readonly text: string;
  readonly publicKey: string;
}

async function keyPair(directory: string, name: string): Promise<KeyPair> {
  const file = await generateKeyFile(directory, name);
  const printed = spawnSync('age-keygen', ['-y', file.path], { encoding: 'utf8' });
  if (printed.status !== 0) throw new Error(`age-keygen -y failed: ${printed.stderr}`);
  return { ...file, publicKey: printed.stdout.trim() };
}

function configMapObject(name: string, data: Record<string, string>) {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data };
}

/** The recipients' Secret and ConfigMap (one key each) and the identity's Secret. */
function keyObjects(inSecret: KeyPair, inConfigMap: KeyPair) {
  return [
    secretObject(RECIPIENTS_SECRET, { recipients: `# backups\n${inSecret.publicKey}\n` }),
    configMapObject(RECIPIENTS_CONFIG_MAP, { recipients: `${inConfigMap.publicKey}\n` }),
    secretObject(IDENTITY_SECRET, { 'key.txt': inSecret.text }),
  ];
}

function encryptWithRefs(policy: BackupPolicy): void {
  const storage = policy.spec.storage as unknown as Record<string, unknown>;
  storage.encryption = {
    recipients: [
      { secretKeyRef: { name: RECIPIENTS_SECRET, key: 'recipients' } },
      { configMapKeyRef: { name: RECIPIENTS_CONFIG_MAP, key: 'recipients' } },
    ],
    identity: { secretKeyRef: { name: IDENTITY_SECRET, key: 'key.txt' } },
  };
}

describe('an encrypting policy in a cluster (--policy)', () => {
  let directory = '';
  let secretKey: KeyPair;
  let configMapKey: KeyPair;
  let namespace: string;
  let policyName: string;
  let prefix: string;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    requireAgeTools();
    directory = await mkdtemp(join(tmpdir(), 'pgbackup-encrypted-cluster-'));
    secretKey = await keyPair(directory, 'in-secret.txt');
    configMapKey = await keyPair(directory, 'in-config-map.txt');
    ({ namespace, policyName, prefix, env } = await setUpRunnerPolicy({
      fixture: 'binary/in-cluster.yaml',
      podFixture: 'binary/postgres-pod.yaml',
      podAddresses: [requireEnv('PGBACKUP_REPLICA'), requireEnv('PGBACKUP_PRIMARY')],
      edit: encryptWithRefs,
    }));
    await kubectlApply(namespace, keyObjects(secretKey, configMapKey));
  });

  afterAll(async () => {
    if (directory !== '') await rm(directory, { recursive: true, force: true });
  });

  const runArgs = (at: string) => [
    '--policy',
    `${namespace}/${policyName}`,
    '--type',
    'binary',
    '--line',
    'daily',
    '--at',
    at,
  ];

  it("lets the runner's service account read the recipients, and never the identity", async () => {
    const asRunner = new KubeConfig();
    asRunner.loadFromFile(env.KUBECONFIG ?? '');
    const core = asRunner.makeApiClient(CoreV1Api);

    const refused = await apiFailure(
      core.readNamespacedSecret({ namespace, name: IDENTITY_SECRET }),
    );
    expect(refused.code).toBe(403);
    expect(refused.message).toContain(`secrets "${IDENTITY_SECRET}" is forbidden`);
    const recipients = await core.readNamespacedSecret({ namespace, name: RECIPIENTS_SECRET });
    expect(Object.keys(recipients.data ?? {})).toEqual(['recipients']);
    const configMap = await core.readNamespacedConfigMap({
      namespace,
      name: RECIPIENTS_CONFIG_MAP,
    });
    expect(configMap.data?.recipients?.trim()).toBe(configMapKey.publicKey);
    // By name only: no other ConfigMap of the namespace.
    const other = await apiFailure(core.readNamespacedConfigMap({ namespace, name: 'other' }));
    expect(other.code).toBe(403);
  });

  it('stores the backup encrypted for the keys of the Secret and the ConfigMap; stock age decrypts it with either', async () => {
    const run = await startPgbackupRun(runArgs('2026-03-02T01:30:00Z'), env).outcome;

    expect(run.code, run.stderr).toBe(0);
    const [key] = await listCommitted(`${prefix}/${namespace}/${policyName}/binary/`);
    if (key === undefined) throw new Error('no backup committed');
    const manifest = await readManifest(key);
    expect(manifest.encryption).toEqual({
      format: 'age',
      recipients: [
        fingerprintRecipient(secretKey.publicKey),
        fingerprintRecipient(configMapKey.publicKey),
      ],
    });
    expect(manifest.objects.map((object) => object.name)).toEqual(['base.tar.zst.age']);
    const archive = join(directory, 'base.tar.zst.age');
    await downloadObject(
      testS3Client(),
      { bucket: testBucket(), key: `${key}base.tar.zst.age` },
      archive,
    );
    for (const identity of [secretKey, configMapKey]) {
      const listing = await runTool('bash', [
        '-c',
        'set -o pipefail; age -d -i "$1" < "$2" | zstd -dc | tar -tf -',
        'bash',
        identity.path,
        archive,
      ]);
      expect(listing.split('\n')).toContain('PG_VERSION');
    }
  });

  it('fails, writing nothing and never echoing it, when a private key is in the recipients ConfigMap', async () => {
    const before = await listCommitted(`${prefix}/${namespace}/${policyName}/binary/`);
    const pasted = configMapKey.text.split('\n').find((line) => line.startsWith('AGE-SECRET-KEY-'));
    if (pasted === undefined) throw new Error('the key file holds no identity');
    await kubectlApply(namespace, [
      configMapObject(RECIPIENTS_CONFIG_MAP, { recipients: `# oops\n${pasted}\n` }),
    ]);

    const run = await startPgbackupRun(runArgs('2026-03-03T01:30:00Z'), env).outcome;

    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain(
      `ConfigMap ${namespace}/${RECIPIENTS_CONFIG_MAP} key "recipients" (spec.storage.encryption.recipients[1].configMapKeyRef), line 2: this is an age identity (a private key)`,
    );
    expect(run.stderr).not.toContain(pasted);
    expect(await listCommitted(`${prefix}/${namespace}/${policyName}/binary/`)).toEqual(before);
    const failed = (await listBackupObjects(namespace)).find(
      (backup) => backup.status?.phase === 'Failed',
    );
    expect(String(failed?.status?.message)).toContain('this is an age identity');
    expect(JSON.stringify(failed)).not.toContain(pasted);
  });
});

describe('an encrypting logical policy in a cluster (--policy)', () => {
  let directory = '';
  let database = '';

  beforeAll(async () => {
    requireAgeTools();
    directory = await mkdtemp(join(tmpdir(), 'pgbackup-encrypted-logical-'));
    database = await createTestDatabase();
    await withClient(superuserClient('primary', database), (client) =>
      client.query("CREATE TABLE notes AS SELECT 'a note' AS body"),
    );
    await waitForReplica();
  });

  afterAll(async () => {
    if (database !== '') await dropTestDatabase(database);
    if (directory !== '') await rm(directory, { recursive: true, force: true });
  });

  it('stores the globals and the dump encrypted; stock age and pg_restore read the dump', async () => {
    const inSecret = await keyPair(directory, 'in-secret.txt');
    const inConfigMap = await keyPair(directory, 'in-config-map.txt');
    const { namespace, policyName, prefix, env } = await setUpRunnerPolicy({
      fixture: 'logical/in-cluster.yaml',
      podFixture: 'binary/postgres-pod.yaml',
      podAddresses: [requireEnv('PGBACKUP_PRIMARY'), requireEnv('PGBACKUP_REPLICA')],
      edit: (policy) => {
        Object.assign(policy.spec.logical, { databases: [database] });
        encryptWithRefs(policy);
      },
    });
    await kubectlApply(namespace, keyObjects(inSecret, inConfigMap));
    const args = ['--policy', `${namespace}/${policyName}`, '--type', 'logical'];

    const run = await startPgbackupRun(
      [...args, '--line', 'weekly', '--at', '2026-03-01T02:30:00Z'],
      env,
    ).outcome;

    expect(run.code, run.stderr).toBe(0);
    const [key] = await listCommitted(`${prefix}/${namespace}/${policyName}/logical/`);
    if (key === undefined) throw new Error('no backup committed');
    const manifest = await readManifest(key);
    expect(manifest.encryption?.recipients).toEqual([
      fingerprintRecipient(inSecret.publicKey),
      fingerprintRecipient(inConfigMap.publicKey),
    ]);
    const dumpName = `${dumpObjectNameOf(database)}.age`;
    expect(manifest.objects.map((object) => object.name)).toEqual(['globals.sql.age', dumpName]);
    const stored = join(directory, dumpName);
    await downloadObject(
      testS3Client(),
      { bucket: testBucket(), key: `${key}${dumpName}` },
      stored,
    );
    const listing = await runTool('bash', [
      '-c',
      'set -o pipefail; age -d -i "$1" < "$2" | "$3/pg_restore" --list',
      'bash',
      inConfigMap.path,
      stored,
      requireEnv('PGBACKUP_PG_BIN'),
    ]);
    expect(listing).toMatch(/TABLE DATA public notes /);
  });
});
