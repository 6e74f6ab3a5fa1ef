/**
 * Restore inside the cluster (issue 16) against a real API server and controller: a binary
 * backup of the environment's primary taken by an on-demand Backup's Job, then
 * `pgbackup restore --to-pvc` creates a Restore, the controller creates its claim and its Job,
 * the test plays the Job's pod with the real runner on a directory standing for the claim, and
 * a PostgreSQL started on the claim's pgdata serves the rows (count and ordered md5). Failure
 * paths: a claim that is not empty fails the Restore with a clear message and nothing written;
 * a Restore of a policy that does not exist is refused without a Job or a claim; the API
 * server refuses what the schema refuses, with the same message.
 */
import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { KubeObject } from '../../../src/kube/index.js';
import { createPostgresPod } from '../../harness/cluster-objects.js';
import { writeKubeConfigFile } from '../../harness/controller-process.js';
import { fixtureYaml } from '../../harness/fixtures.js';
import { runKubectl } from '../../harness/kube.js';
import { runEnvironment, startPgbackup } from '../../harness/pgbackup-run.js';
import { superuserClient, withClient } from '../../harness/postgres.js';
import { fingerprintTables, startRestoredServer } from '../../harness/restore.js';
import { requireEnv } from '../../harness/variables.js';
import {
  applyRunnerPolicy,
  type ControllerTestEnv,
  createBackup,
  pgbackupPath,
  useRunningController,
  waitForJob,
} from '../controller/controller-setup.js';
import { runLikeThePod } from '../controller/job-pod.js';
import { claimDir, claimNameOf, createRestore, getRestore, runRestorePod } from './restore-pod.js';

/** A table of the primary's, unique to this file, that the restored server must serve. */
const TABLE = 'restore_to_pvc_rows';
const RESTORED_HOST = `${process.env.PGBACKUP_ENV_SUBNET ?? '127.0.0'}.77`;

function waitForPhase(env: ControllerTestEnv, name: string, phase: string) {
  return vi.waitFor(
    async () => {
      const restore = await getRestore(env, name);
      expect(restore.status?.phase).toBe(phase);
      return restore;
    },
    { timeout: 60_000, interval: 250 },
  );
}

async function exists(env: ControllerTestEnv, path: string): Promise<boolean> {
  return env.client.request({ verb: 'get', path, what: `get ${path}` }).then(
    () => true,
    () => false,
  );
}

const claimPath = (env: ControllerTestEnv, name: string) =>
  `/api/v1/namespaces/${env.namespace}/persistentvolumeclaims/${name}`;
const jobPath = (env: ControllerTestEnv, name: string) =>
  `/apis/batch/v1/namespaces/${env.namespace}/jobs/${name}`;

async function createClaim(env: ControllerTestEnv, name: string): Promise<void> {
  await env.client.request({
    verb: 'create',
    path: `/api/v1/namespaces/${env.namespace}/persistentvolumeclaims`,
    body: {
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
      metadata: { name },
      spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
    },
    what: `create claim ${name}`,
  });
}

describe('Restore into a claim', () => {
  const running = useRunningController();
  let backupKey = '';

  beforeAll(async () => {
    const { env } = running;
    await withClient(superuserClient('primary'), async (client) => {
      await client.query(`DROP TABLE IF EXISTS ${TABLE}`);
      await client.query(
        `CREATE TABLE ${TABLE} AS SELECT n AS id, md5(n::text) AS payload FROM generate_series(1, 5000) AS n`,
      );
    });
    await applyRunnerPolicy(env, {});
    for (const address of [requireEnv('PGBACKUP_REPLICA'), requireEnv('PGBACKUP_PRIMARY')]) {
      await createPostgresPod(env.namespace, { fixture: 'controller/postgres-pod.yaml', address });
    }
    await createBackup(env, 'before-restore', { type: 'binary' });
    const job = await waitForJob(env, 'before-restore-run');
    const run = await runLikeThePod(env, job.spec);
    expect(run.code, run.stderr).toBe(0);
    const backup = await env.client.request<
      KubeObject & { status?: { artifact?: { key: string } } }
    >({
      verb: 'get',
      path: pgbackupPath(env.namespace, 'backups', 'before-restore'),
      what: 'get Backup',
    });
    backupKey = backup.status?.artifact?.key ?? '';
    expect(backupKey).not.toBe('');
  }, 300_000);

  afterAll(async () => {
    await withClient(superuserClient('primary'), (client) =>
      client.query(`DROP TABLE IF EXISTS ${TABLE}`),
    );
  });

  it('pgbackup restore --to-pvc creates the claim and the Restore, whose Job restores the rows', async () => {
    const { env } = running;
    const started = startPgbackup(
      [
        'restore',
        '--policy',
        `${env.namespace}/orders`,
        '--to-pvc',
        'restored',
        '--pvc-size',
        '1Gi',
        '--name',
        'from-newest',
        '--timeout',
        '5m',
      ],
      runEnvironment({ KUBECONFIG: writeKubeConfigFile(env.admin) }),
    );
    const job = await waitForJob(env, 'from-newest-restore');
    expect(claimNameOf(job.spec)).toBe('restored');
    // The claim the Restore asked for, owned by nobody: it outlives the Restore.
    const claim = await env.client.request<KubeObject>({
      verb: 'get',
      path: claimPath(env, 'restored'),
      what: 'get claim',
    });
    expect(claim.metadata.ownerReferences ?? []).toEqual([]);
    expect((await getRestore(env, 'from-newest')).status?.phase).toMatch(/^(Pending|)$/);

    const local = await claimDir();
    const run = await runRestorePod(env, job.spec, local);
    expect(run.code, run.stderr).toBe(0);
    const result = await started.outcome;
    expect(result.code, `${result.stdout}\n${result.stderr}`).toBe(0);
    expect(result.stdout).toContain('restore.pgbackup.dev/from-newest created\n');
    expect(result.stdout).toContain('restore.pgbackup.dev/from-newest Succeeded\n');
    expect(result.stdout).toContain(`backup: ${backupKey}\n`);
    expect(result.stdout).toContain('docs/restore-in-cluster.md');

    const restore = await getRestore(env, 'from-newest');
    expect(restore.status).toMatchObject({ phase: 'Succeeded', backup: backupKey });
    expect(restore.status?.restoreSeconds).toBeGreaterThan(0);
    expect(restore.status?.reached?.lsn).toMatch(/^[0-9A-F]+\/[0-9A-F]+$/);
    expect(Date.parse(restore.status?.completedAt ?? '')).toBeGreaterThanOrEqual(
      Date.parse(restore.status?.startedAt ?? ''),
    );
    expect(JSON.stringify(restore.status)).not.toContain(requireEnv('AWS_SECRET_ACCESS_KEY'));
    console.log(`restore into the claim took ${restore.status?.restoreSeconds} s`);

    expect(await readdir(local)).toEqual(['pgdata']);
    const source = await withClient(superuserClient('primary'), fingerprintTables);
    const server = await startRestoredServer(join(local, 'pgdata'), RESTORED_HOST);
    try {
      const restored = await withClient(server.client('postgres'), fingerprintTables);
      expect(restored[`public.${TABLE}`]).toEqual(source[`public.${TABLE}`]);
      expect(restored[`public.${TABLE}`]?.rows).toBe(5000);
    } finally {
      await server.stop();
    }
  }, 300_000);

  it('fails a Restore whose claim is not empty, writing nothing to it', async () => {
    const { env } = running;
    await createClaim(env, 'holds-data');
    await createRestore(env, 'into-used', { policy: 'orders', pvc: { name: 'holds-data' } });
    const job = await waitForJob(env, 'into-used-restore');
    const local = await claimDir();
    await writeFile(join(local, 'keep.txt'), 'somebody else’s\n');
    const run = await runRestorePod(env, job.spec, local);
    expect(run.code).toBe(1);
    const restore = await getRestore(env, 'into-used');
    expect(restore.status?.phase).toBe('Failed');
    expect(restore.status?.message).toBe(
      `the claim is not empty: ${local} holds keep.txt; nothing was downloaded and nothing on the claim was changed. A Restore fills an empty claim (the data directory goes to ${local}/pgdata): give a new or emptied claim, then create a new Restore`,
    );
    expect(await readdir(local)).toEqual(['keep.txt']);
  }, 120_000);

  it('refuses a Restore of a policy that does not exist, creating no Job and no claim', async () => {
    const { env } = running;
    await createRestore(env, 'of-nothing', {
      policy: 'missing',
      pvc: { name: 'never-made', size: '1Gi' },
    });
    const restore = await waitForPhase(env, 'of-nothing', 'Failed');
    expect(restore.status?.message).toBe(
      `spec.policy: BackupPolicy ${env.namespace}/missing does not exist; nothing was restored and nothing was changed. Check the name with "kubectl get backuppolicies -n ${env.namespace}", then create a new Restore`,
    );
    expect(await exists(env, jobPath(env, 'of-nothing-restore'))).toBe(false);
    expect(await exists(env, claimPath(env, 'never-made'))).toBe(false);
  });

  it('has the API server refuse what the schema refuses, with the same message', async () => {
    const { env } = running;
    const cases = fixtureYaml<{ message: string; restore: unknown }[]>(
      'restore-pvc/invalid-restores.yaml',
    );
    for (const { message, restore } of cases) {
      const result = await runKubectl(['create', '-n', env.namespace, '-f', '-'], {
        input: JSON.stringify(restore),
      });
      expect(result.code).not.toBe(0);
      expect(result.stderr).toContain(message);
    }
  });
});
