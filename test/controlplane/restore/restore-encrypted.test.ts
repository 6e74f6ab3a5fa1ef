/**
 * A Restore of an encrypting policy (issue 18) against a real API server and controller: the
 * on-demand backup's Job stores the backup encrypted, the Restore's Job mounts the identity
 * Secret (only its key, mode 0400, read-only) and passes it as --identity; the test plays the
 * pod with that volume standing at a directory holding the key, and the claim's pgdata serves
 * the rows. A Restore whose identity Secret does not exist is refused at once, with no Job.
 */
import { spawnSync } from 'node:child_process';
import { chmod, chown, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { fingerprintRecipient } from '../../../src/encryption/index.js';
import type { KubeObject } from '../../../src/kube/index.js';
import { IDENTITY_MOUNT_DIR } from '../../../src/render/runner-pod.js';
import { createPostgresPod, kubectlApply, secretObject } from '../../harness/cluster-objects.js';
import { postgresRunAs } from '../../harness/env/postgres.js';
import { superuserClient, withClient } from '../../harness/postgres.js';
import { fingerprintTables, startRestoredServer } from '../../harness/restore.js';
import { requireEnv } from '../../harness/variables.js';
import { generateKeyFile, requireAgeTools } from '../../integration/encryption/age-tool.js';
import { readManifest } from '../../integration/logical/restore-dump.js';
import {
  applyRunnerPolicy,
  type ControllerTestEnv,
  createBackup,
  pgbackupPath,
  useRunningController,
  waitForJob,
} from '../controller/controller-setup.js';
import { runLikeThePod } from '../controller/job-pod.js';
import { claimDir, createRestore, getRestore, runRestorePod } from './restore-pod.js';

const TABLE = 'restore_encrypted_rows';
const RESTORED_HOST = `${process.env.PGBACKUP_ENV_SUBNET ?? '127.0.0'}.78`;
const IDENTITY_SECRET = 'orders-age-identity';

interface PodSpecOfJob {
  template: {
    spec: {
      containers: { args: string[]; volumeMounts: unknown[] }[];
      volumes: { name: string; secret?: unknown }[];
    };
  };
}

/** Sets the policy's encryption (merge patch): the public key inline, the identity's Secret named. */
function encryptPolicy(env: ControllerTestEnv, publicKey: string, identitySecret: string) {
  return env.client.request({
    verb: 'patch',
    path: pgbackupPath(env.namespace, 'backuppolicies', 'orders'),
    body: {
      spec: {
        storage: {
          encryption: {
            recipients: [{ publicKey }],
            identity: { secretKeyRef: { name: identitySecret, key: 'key.txt' } },
          },
        },
      },
    },
    contentType: 'application/merge-patch+json',
    what: 'encrypt the policy',
  });
}

describe('Restore of an encrypting policy', () => {
  const running = useRunningController();
  let directory = '';
  /** The directory standing for the identity Secret's volume. */
  let identityDir = '';
  let keyText = '';
  let backupKey = '';

  beforeAll(async () => {
    requireAgeTools();
    const { env } = running;
    directory = await mkdtemp(join(tmpdir(), 'pgbackup-restore-encrypted-'));
    identityDir = join(directory, 'identity');
    const key = await generateKeyFile(directory, 'key.txt');
    keyText = key.text;
    const publicKey = spawnSync('age-keygen', ['-y', key.path], { encoding: 'utf8' }).stdout.trim();
    await withClient(superuserClient('primary'), async (client) => {
      await client.query(`DROP TABLE IF EXISTS ${TABLE}`);
      await client.query(
        `CREATE TABLE ${TABLE} AS SELECT n AS id, md5(n::text) AS payload FROM generate_series(1, 5000) AS n`,
      );
    });
    await applyRunnerPolicy(env, {});
    await encryptPolicy(env, publicKey, IDENTITY_SECRET);
    await kubectlApply(env.namespace, [secretObject(IDENTITY_SECRET, { 'key.txt': keyText })]);
    for (const address of [requireEnv('PGBACKUP_REPLICA'), requireEnv('PGBACKUP_PRIMARY')]) {
      await createPostgresPod(env.namespace, { fixture: 'controller/postgres-pod.yaml', address });
    }
    await createBackup(env, 'encrypted-backup', { type: 'binary' });
    const job = await waitForJob(env, 'encrypted-backup-run');
    const run = await runLikeThePod(env, job.spec);
    expect(run.code, run.stderr).toBe(0);
    const backup = await env.client.request<
      KubeObject & { status?: { artifact?: { key: string } } }
    >({
      verb: 'get',
      path: pgbackupPath(env.namespace, 'backups', 'encrypted-backup'),
      what: 'get Backup',
    });
    backupKey = backup.status?.artifact?.key ?? '';
    expect(backupKey).not.toBe('');
    const manifest = await readManifest(backupKey);
    expect(manifest.encryption?.recipients).toEqual([fingerprintRecipient(publicKey)]);
    expect(manifest.objects.map((object) => object.name)).toEqual(['base.tar.zst.age']);
    // The volume as the kubelet fills it: the one key, as identity.txt, 0400 under the fsGroup.
    await mkdir(identityDir);
    await writeFile(join(identityDir, 'identity.txt'), keyText, { mode: 0o440 });
    const runAs = postgresRunAs();
    if (runAs !== undefined) await chown(join(identityDir, 'identity.txt'), 0, runAs.gid);
    await chmod(directory, 0o755);
    await chmod(identityDir, 0o755);
  }, 300_000);

  afterAll(async () => {
    await withClient(superuserClient('primary'), (client) =>
      client.query(`DROP TABLE IF EXISTS ${TABLE}`),
    );
    if (directory !== '') await rm(directory, { recursive: true, force: true });
  });

  it("restores the encrypted backup with the identity the Job mounts: the claim's pgdata serves the rows", async () => {
    const { env } = running;
    await createRestore(env, 'encrypted', {
      policy: 'orders',
      pvc: { name: 'restored-encrypted', size: '1Gi' },
    });
    const job = await waitForJob(env, 'encrypted-restore');
    const pod = (job.spec as PodSpecOfJob).template.spec;
    expect(pod.volumes).toContainEqual({
      name: 'age-identity',
      secret: {
        secretName: IDENTITY_SECRET,
        items: [{ key: 'key.txt', path: 'identity.txt' }],
        defaultMode: 0o400,
      },
    });
    expect(pod.containers[0]?.args.slice(-2)).toEqual([
      '--identity',
      `${IDENTITY_MOUNT_DIR}/identity.txt`,
    ]);

    const local = await claimDir();
    const run = await runRestorePod(env, job.spec, local, { [IDENTITY_MOUNT_DIR]: identityDir });

    expect(run.code, run.stderr).toBe(0);
    const restore = await getRestore(env, 'encrypted');
    expect(restore.status).toMatchObject({ phase: 'Succeeded', backup: backupKey });
    expect(JSON.stringify(restore.status)).not.toContain('AGE-SECRET-KEY');
    expect(await readdir(local)).toEqual(['pgdata']);
    const source = await withClient(superuserClient('primary'), fingerprintTables);
    const server = await startRestoredServer(join(local, 'pgdata'), RESTORED_HOST);
    try {
      const restored = await withClient(server.client('postgres'), fingerprintTables);
      expect(restored[`public.${TABLE}`]?.rows).toBe(5000);
      expect(restored[`public.${TABLE}`]).toEqual(source[`public.${TABLE}`]);
    } finally {
      await server.stop();
    }
  }, 300_000);

  it('refuses a Restore whose identity Secret does not exist, with no Job', async () => {
    const { env } = running;
    await env.client.request({
      verb: 'delete',
      path: `/api/v1/namespaces/${env.namespace}/secrets/${IDENTITY_SECRET}`,
      what: 'delete the identity Secret',
    });
    await createRestore(env, 'without-identity', {
      policy: 'orders',
      pvc: { name: 'never-made', size: '1Gi' },
    });

    const restore = await vi.waitFor(
      async () => {
        const found = await getRestore(env, 'without-identity');
        expect(found.status?.phase).toBe('Failed');
        return found;
      },
      { timeout: 60_000, interval: 250 },
    );
    expect(restore.status?.message).toBe(
      `spec.storage.encryption.identity.secretKeyRef of BackupPolicy ${env.namespace}/orders: Secret ${env.namespace}/${IDENTITY_SECRET} does not exist; nothing was restored and nothing was changed. Create it with the age identity (kubectl create secret generic ${IDENTITY_SECRET} --from-file=key.txt=KEY.txt), then create a new Restore`,
    );
    const job = await env.client
      .request({
        verb: 'get',
        path: `/apis/batch/v1/namespaces/${env.namespace}/jobs/without-identity-restore`,
        what: 'get Job',
      })
      .then(
        () => true,
        () => false,
      );
    expect(job).toBe(false);
  }, 120_000);
});
