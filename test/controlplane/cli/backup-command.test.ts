/**
 * `pgbackup backup` against a real API server and controller: the command creates the Backup
 * with the user's kubeconfig, the controller starts its Job, the test plays the Job's pod with
 * the real runner, and `--wait` reports what the run recorded.
 */
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { describe, expect, it, vi } from 'vitest';
import { BACKUP_PLURAL } from '../../../src/api/index.js';
import type { KubeObject } from '../../../src/kube/index.js';
import { createPostgresPod } from '../../harness/cluster-objects.js';
import { writeKubeConfigFile } from '../../harness/controller-process.js';
import { runEnvironment, startPgbackup } from '../../harness/pgbackup-run.js';
import { testBucket, testS3Client } from '../../harness/s3.js';
import { requireEnv } from '../../harness/variables.js';
import {
  applyRunnerPolicy,
  type ControllerTestEnv,
  pgbackupPath,
  useRunningController,
  waitForJob,
} from '../controller/controller-setup.js';
import { runLikeThePod } from '../controller/job-pod.js';

/** Starts `pgbackup backup ARGS` as the test's (admin) user, through its kubeconfig file. */
function startBackupCommand(env: ControllerTestEnv, args: readonly string[]) {
  return startPgbackup(
    ['backup', ...args],
    runEnvironment({ KUBECONFIG: writeKubeConfigFile(env.admin) }),
  );
}

/** The names of the Backups in the test's namespace. */
async function backupNames(env: ControllerTestEnv): Promise<string[]> {
  const list = await env.client.request<{ items: KubeObject[] }>({
    verb: 'list',
    path: pgbackupPath(env.namespace, BACKUP_PLURAL),
    what: 'list Backups',
  });
  return list.items.map((item) => item.metadata.name);
}

describe('pgbackup backup', () => {
  const running = useRunningController();

  it('refuses a policy that does not exist and creates no Backup', async () => {
    const { env } = running;
    const result = await startBackupCommand(env, ['--policy', `${env.namespace}/missing`]).outcome;
    expect(result).toMatchObject({
      code: 1,
      stdout: '',
      stderr: `pgbackup backup: BackupPolicy ${env.namespace}/missing does not exist; no Backup was created. Check the name with "kubectl get backuppolicies -n ${env.namespace}"\n`,
    });
    expect(await backupNames(env)).toEqual([]);
  });

  it('refuses a type the policy does not take and creates no Backup', async () => {
    const { env } = running;
    await applyRunnerPolicy(env, {});
    const result = await startBackupCommand(env, [
      '--policy',
      `${env.namespace}/orders`,
      '--type',
      'logical',
    ]).outcome;
    expect(result).toMatchObject({
      code: 1,
      stdout: '',
      stderr: `pgbackup backup: BackupPolicy ${env.namespace}/orders does not take logical backups (spec.logical.enabled is false); no Backup was created. Enable logical backups in the policy or use --type binary\n`,
    });
    expect(await backupNames(env)).toEqual([]);
  });

  it('waits for a run that fails and exits 1 with its message', async () => {
    const { env } = running;
    // No PostgreSQL pod matches the policy's selector yet: the run cannot find its primary.
    const started = startBackupCommand(env, [
      '--policy',
      `${env.namespace}/orders`,
      '--name',
      'no-primary',
      '--wait',
    ]);
    const job = await waitForJob(env, 'no-primary-run');
    const run = await runLikeThePod(env, job.spec);
    expect(run.code).toBe(1);
    const result = await started.outcome;
    expect(result.stderr).toBe('');
    expect(result.code, result.stdout).toBe(1);
    const backup = await env.client.request<KubeObject & { status: { message: string } }>({
      verb: 'get',
      path: pgbackupPath(env.namespace, BACKUP_PLURAL, 'no-primary'),
      what: 'get Backup',
    });
    expect(backup.status).toMatchObject({ phase: 'Failed' });
    expect(result.stdout).toBe(
      [
        'backup.pgbackup.dev/no-primary created',
        'backup.pgbackup.dev/no-primary Failed',
        `message: ${backup.status.message}`,
        `The Backup is left as it is; see "kubectl describe backup no-primary -n ${env.namespace}"`,
        '',
      ].join('\n'),
    );
    expect(backup.status.message).toContain('no primary found among the pods');
  });

  it('stops waiting at --timeout, leaving the Backup as it is', async () => {
    const { env } = running;
    const result = await startBackupCommand(env, [
      '--policy',
      `${env.namespace}/orders`,
      '--name',
      'nobody-runs-it',
      '--wait',
      '--timeout',
      '2s',
    ]).outcome;
    expect(result).toMatchObject({
      code: 1,
      stdout: 'backup.pgbackup.dev/nobody-runs-it created\n',
    });
    // Pending once the controller has seen the Backup, without a phase before that.
    expect(result.stderr).toMatch(
      new RegExp(
        `^pgbackup backup: Backup ${env.namespace}/nobody-runs-it is still (Pending|waiting for its Job) after 2s; stopped waiting\\. The Backup is left as it is and its run goes on; see "kubectl describe backup nobody-runs-it -n ${env.namespace}"\n$`,
      ),
    );
    expect(await backupNames(env)).toContain('nobody-runs-it');
  });

  it('creates an on-demand Backup, waits for its run and prints the stored key', async () => {
    const { env } = running;
    for (const address of [requireEnv('PGBACKUP_REPLICA'), requireEnv('PGBACKUP_PRIMARY')]) {
      await createPostgresPod(env.namespace, { fixture: 'controller/postgres-pod.yaml', address });
    }
    const before = new Set(await backupNames(env));
    const started = startBackupCommand(env, ['--policy', `${env.namespace}/orders`, '--wait']);
    // The name the command chose: the one new Backup, of the policy's default type.
    const name = await vi.waitFor(
      async () => {
        const created = (await backupNames(env)).filter((found) => !before.has(found));
        expect(created).toHaveLength(1);
        return created[0] ?? '';
      },
      { timeout: 60_000, interval: 250 },
    );
    expect(name).toMatch(/^orders-binary-\d{8}t\d{6}z$/);
    const job = await waitForJob(env, `${name}-run`);
    const run = await runLikeThePod(env, job.spec);
    expect(run.code, run.stderr).toBe(0);

    const result = await started.outcome;
    expect(result.stderr).toBe('');
    expect(result.code, result.stdout).toBe(0);
    const lines = result.stdout.split('\n');
    expect(lines.slice(0, 3)).toEqual([
      `backup.pgbackup.dev/${name} created`,
      `backup.pgbackup.dev/${name} Completed`,
      `bucket: ${testBucket()}`,
    ]);
    const key = lines[3]?.replace(/^key: /, '') ?? '';
    expect(key).toMatch(
      new RegExp(`/${env.namespace}/orders/binary/on-demand/\\d{8}T\\d{6}Z-[0-9a-f]{8}/$`),
    );
    expect(lines[4]).toMatch(/^size: \S+ \S+ \(\d+ bytes\)$/);
    const head = await testS3Client().send(
      new HeadObjectCommand({ Bucket: testBucket(), Key: `${key}manifest.json` }),
    );
    expect(head.ContentLength).toBeGreaterThan(0);
  });
});
