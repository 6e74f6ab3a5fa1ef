/**
 * The receiver of an encrypting policy as the controller's Deployment runs it
 * (`wal-receive --policy NS/NAME`, the runner's service account): it reads the recipients
 * from a ConfigMap through the API (the Role names it) and stores every WAL object encrypted
 * for them, which the stock `age -d` decrypts; it never needs the identity's Secret.
 */
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fingerprintRecipient } from '../../../src/encryption/index.js';
import { walSlotNameOf } from '../../../src/postgres/index.js';
import { kubectlApply } from '../../harness/cluster-objects.js';
import { type StartedRun, startPgbackup } from '../../harness/pgbackup-run.js';
import { superuserClient, withClient } from '../../harness/postgres.js';
import { type RunnerPolicy, setUpRunnerPolicy } from '../../harness/runner-policy.js';
import { requireEnv } from '../../harness/variables.js';
import { generateKeyFile, requireAgeTools } from '../encryption/age-tool.js';
import {
  makeWal,
  readWalObject,
  waitFor,
  walNames,
  walStoreOf,
  writeWalPolicy,
} from './receiver-harness.js';

const RECIPIENTS_CONFIG_MAP = 'wal-public-keys';

describe('the WAL receiver of an encrypting policy in a cluster', () => {
  let dir: string;
  let policy: RunnerPolicy;
  let receiver: StartedRun | undefined;
  let keyFile: string;
  let fingerprint: string;

  beforeAll(async () => {
    requireAgeTools();
    dir = await mkdtemp(join(tmpdir(), 'pgbackup-wal-in-cluster-encrypted-'));
    const key = await generateKeyFile(dir, 'key.txt');
    await chmod(key.path, 0o600);
    keyFile = key.path;
    const publicKey = /# public key: (age1[0-9a-z]+)/.exec(key.text)?.[1] ?? '';
    fingerprint = fingerprintRecipient(publicKey);
    policy = await setUpRunnerPolicy({
      fixture: 'binary/in-cluster.yaml',
      podFixture: 'binary/postgres-pod.yaml',
      podAddresses: [requireEnv('PGBACKUP_REPLICA'), requireEnv('PGBACKUP_PRIMARY')],
      edit: (document) => {
        document.spec.continuous = {
          ...document.spec.continuous,
          enabled: true,
          uploadInterval: '2s',
        };
        if (document.spec.storage !== undefined) {
          document.spec.storage.encryption = {
            recipients: [{ configMapKeyRef: { name: RECIPIENTS_CONFIG_MAP, key: 'recipients' } }],
            identity: { secretKeyRef: { name: 'wal-age-identity', key: 'key.txt' } },
          };
        }
      },
    });
    await kubectlApply(policy.namespace, [
      {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: RECIPIENTS_CONFIG_MAP },
        data: { recipients: `# the WAL's key\n${publicKey}\n` },
      },
    ]);
  }, 120_000);

  afterAll(async () => {
    if (receiver !== undefined && receiver.child.exitCode === null) {
      receiver.child.kill('SIGTERM');
      await receiver.outcome;
    }
    // The environment's primary is shared: its permanent slot must not outlive the test.
    const slot = walSlotNameOf(policy.namespace, policy.policyName);
    await withClient(superuserClient('primary'), (client) =>
      client.query(
        'SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1',
        [slot],
      ),
    );
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  }, 120_000);

  it('stores WAL encrypted for the recipients it read from the ConfigMap', async () => {
    const spool = join(await mkdtemp(join(tmpdir(), 'pgbackup-wal-spool-')), 'spool');
    const started = startPgbackup(
      [
        'wal-receive',
        '--policy',
        `${policy.namespace}/${policy.policyName}`,
        '--spool',
        spool,
        '--metrics-address',
        `127.0.0.1:${40_000 + Math.floor(Math.random() * 10_000)}`,
        '--status-interval',
        '1',
      ],
      policy.env,
    );
    receiver = started;
    // The bucket's WAL of the policy, read with the test's own credentials.
    const where = await writeWalPolicy({ hosts: ['unused:5432'], name: policy.policyName });
    const store = walStoreOf({ ...where, namespace: policy.namespace, prefix: policy.prefix });
    await waitFor(
      'the receiver streaming (a partial or segment in the bucket)',
      async () => (await walNames(store)).length > 0,
      60_000,
      started,
    );
    await withClient(superuserClient('primary'), (client) => makeWal(client, 1));
    const segment = await waitFor(
      'a completed segment, encrypted',
      async () => (await walNames(store)).find((name) => /^[0-9A-F]{24}\.zst\.age$/.test(name)),
      60_000,
      started,
    );
    const names = await walNames(store);
    expect(names.filter((name) => !name.endsWith('.age'))).toEqual([]);
    expect((await store.head(segment))?.recipients).toEqual([fingerprint]);
    const object = await readWalObject(store, segment, keyFile);
    expect(object.sha256Matches).toBe(true);
    expect(object.stored.subarray(0, 22).toString('latin1')).toBe('age-encryption.org/v1\n');
    // A WAL segment's first page header: magic of PostgreSQL 15 (0xD110), then info bits.
    expect(object.bytes.readUInt16LE(0)).toBe(0xd110);
    started.child.kill('SIGTERM');
    const outcome = await started.outcome;
    expect(outcome.code, outcome.stderr.slice(-3000)).toBe(0);
  }, 180_000);
});
