/**
 * The restore drill of an encrypting policy in a cluster (`pgbackup verify --policy`, as the
 * drill's CronJob runs it): the runner's service account cannot read the identity's Secret,
 * and needs not: the identity comes as the file the pod mounts (here a file of the same mode
 * the kubelet gives it: 0440, the owner root and the group the pod's fsGroup), the drill
 * passes and is recorded in the Backup. Without the file the drill fails, naming the
 * recipient, and that is recorded too.
 */
import { spawnSync } from 'node:child_process';
import { chmod, chown, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BackupPolicy } from '../../../src/api/index.js';
import { fingerprintRecipient } from '../../../src/encryption/index.js';
import { kubectlApply, secretObject } from '../../harness/cluster-objects.js';
import { postgresRunAs } from '../../harness/env/postgres.js';
import { startPgbackupRun } from '../../harness/pgbackup-run.js';
import {
  artifactKeyOf,
  listBackupObjects,
  type RunnerPolicy,
  setUpRunnerPolicy,
} from '../../harness/runner-policy.js';
import { requireEnv } from '../../harness/variables.js';
import { generateKeyFile, requireAgeTools } from '../encryption/age-tool.js';
import { giveToDrillUser, runVerify } from './verify-run.js';

const IDENTITY_SECRET = 'orders-age-identity';

describe('pgbackup verify --policy of an encrypting policy', () => {
  let directory = '';
  let identityFile = '';
  let fingerprint = '';
  let policy: RunnerPolicy;

  beforeAll(async () => {
    requireAgeTools();
    directory = await mkdtemp(join(tmpdir(), 'pgbackup-encrypted-drill-'));
    await chmod(directory, 0o755);
    const key = await generateKeyFile(directory, 'identity.txt');
    identityFile = key.path;
    const publicKey = spawnSync('age-keygen', ['-y', key.path], { encoding: 'utf8' }).stdout.trim();
    fingerprint = fingerprintRecipient(publicKey);
    // As the kubelet leaves a Secret's 0400 file under the pod's fsGroup.
    const runAs = postgresRunAs();
    if (runAs !== undefined) await chown(key.path, 0, runAs.gid);
    await chmod(key.path, 0o440);
    policy = await setUpRunnerPolicy({
      fixture: 'binary/in-cluster.yaml',
      podFixture: 'binary/postgres-pod.yaml',
      podAddresses: [requireEnv('PGBACKUP_REPLICA'), requireEnv('PGBACKUP_PRIMARY')],
      edit: (document: BackupPolicy) => {
        const storage = document.spec.storage as unknown as Record<string, unknown>;
        storage.encryption = {
          recipients: [{ publicKey }],
          identity: { secretKeyRef: { name: IDENTITY_SECRET, key: 'key.txt' } },
        };
      },
    });
    await kubectlApply(policy.namespace, [secretObject(IDENTITY_SECRET, { 'key.txt': key.text })]);
    await giveToDrillUser(policy.env.KUBECONFIG ?? '');
    const backup = await startPgbackupRun(
      [
        '--policy',
        `${policy.namespace}/${policy.policyName}`,
        '--type',
        'binary',
        '--line',
        'daily',
        '--at',
        '2026-03-02T01:30:00Z',
      ],
      policy.env,
    ).outcome;
    expect(backup.code, backup.stderr).toBe(0);
  });

  afterAll(async () => {
    if (directory !== '') await rm(directory, { recursive: true, force: true });
  });

  async function verification() {
    const [backup] = await listBackupObjects(policy.namespace);
    return {
      key: artifactKeyOf(backup),
      verification: backup?.status?.verification as
        | { result?: string; message?: string }
        | undefined,
    };
  }

  it('fails the drill without the identity file, naming the recipient, and records it', async () => {
    const run = await runVerify(['--policy', `${policy.namespace}/${policy.policyName}`], {
      env: policy.env,
    });

    expect(run.code).toBe(1);
    const recorded = await verification();
    expect(run.stdout).toContain(`Failed: ${recorded.key}`);
    expect(recorded.verification?.result).toBe('Failed');
    expect(recorded.verification?.message).toContain(
      `is encrypted for recipient ${fingerprint} and no identity was given: pass its age identity file with --identity FILE (in the cluster: the Secret named by spec.storage.encryption.identity`,
    );
    expect(run.leftInWorkDir).toEqual([]);
  });

  it('passes the drill with the mounted identity file, recording it in the Backup', async () => {
    const run = await runVerify(
      ['--policy', `${policy.namespace}/${policy.policyName}`, '--identity', identityFile],
      { env: policy.env },
    );

    expect(run.code, `${run.stdout}\n${run.stderr}`).toBe(0);
    const recorded = await verification();
    expect(run.stdout).toContain(`Passed: ${recorded.key}`);
    expect(recorded.key.endsWith('/')).toBe(true);
    expect(recorded.verification?.result).toBe('Passed');
    expect(recorded.verification?.message).toContain('pg_verifybackup passed');
    expect(run.leftInWorkDir).toEqual([]);
  });
});
