import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { BackupPolicy } from '../../../src/api/index.js';
import { renderRunnerRbac, runnerServiceAccountNameOf } from '../../../src/render/index.js';
import { installCrds } from '../../controlplane/api/install-crds.js';
import {
  createPostgresPod,
  environmentSecrets,
  kubectl,
  kubectlApply,
  secretObject,
} from '../../harness/cluster-objects.js';
import { fixtureYaml } from '../../harness/fixtures.js';
import {
  adminKubeConfig,
  createTestNamespace,
  serviceAccountKubeConfig,
} from '../../harness/kube.js';
import {
  type RunOutcome,
  runEnvironment,
  type StartedRun,
  startPgbackupRun,
} from '../../harness/pgbackup-run.js';
import { testBucket, testPrefix } from '../../harness/s3.js';
import { requireEnv, uniqueSuffix } from '../../harness/variables.js';
import { listCommitted } from './policy-file.js';

interface BackupObject {
  metadata: { name: string };
  spec: { policy: string; type: string; line?: string };
  status?: Record<string, unknown>;
}

async function listBackups(namespace: string): Promise<BackupObject[]> {
  const list = JSON.parse(await kubectl(['get', 'backups', '-n', namespace, '-o', 'json']));
  return list.items as BackupObject[];
}

function leaseWindow(run: RunOutcome): { acquiredMs: number; releasedMs: number } {
  const lines = run.stderr.split('\n').flatMap((line) => {
    try {
      return [JSON.parse(line) as { msg?: string; time?: number }];
    } catch {
      return [];
    }
  });
  const at = (message: string) => lines.find((line) => line.msg === message)?.time ?? Number.NaN;
  return { acquiredMs: at('acquired the Lease'), releasedMs: at('released the Lease') };
}

/** Resolves once the run has written `text` to stderr. */
function stderrContains(run: StartedRun, text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let seen = '';
    run.child.stderr?.on('data', (chunk: Buffer | string) => {
      seen += chunk.toString();
      if (seen.includes(text)) resolve();
    });
    run.child.on('close', () => reject(new Error(`the run ended without writing "${text}"`)));
  });
}

describe('a binary run in a cluster (--policy)', () => {
  let namespace: string;
  let policyName: string;
  let prefix: string;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    await installCrds();
    const admin = adminKubeConfig();
    namespace = await createTestNamespace(admin);
    const cluster = `orders-${uniqueSuffix()}`;
    prefix = testPrefix();
    const policy = fixtureYaml<BackupPolicy>('binary/in-cluster.yaml');
    policyName = policy.metadata.name ?? '';
    policy.metadata.namespace = namespace;
    const matchLabels = policy.spec.target.selector?.matchLabels ?? {};
    matchLabels.cluster = cluster;
    Object.assign(policy.spec.storage?.s3 ?? {}, {
      bucket: testBucket(),
      prefix,
      endpoint: requireEnv('PGBACKUP_S3_ENDPOINT'),
      region: requireEnv('AWS_REGION'),
    });
    await kubectlApply(namespace, [...environmentSecrets(), policy]);
    const created = JSON.parse(
      await kubectl(['get', 'backuppolicy', policyName, '-n', namespace, '-o', 'json']),
    );
    const owner = {
      apiVersion: 'pgbackup.dev/v1alpha1',
      kind: 'BackupPolicy',
      name: policyName,
      namespace,
      uid: created.metadata.uid,
    };
    await kubectlApply(namespace, renderRunnerRbac(policy, owner));
    await createPostgresPod(namespace, {
      fixture: 'binary/postgres-pod.yaml',
      address: requireEnv('PGBACKUP_REPLICA'),
      labels: { cluster },
    });
    await createPostgresPod(namespace, {
      fixture: 'binary/postgres-pod.yaml',
      address: requireEnv('PGBACKUP_PRIMARY'),
      labels: { cluster },
    });
    const runner = await serviceAccountKubeConfig(admin, {
      namespace,
      name: runnerServiceAccountNameOf(policyName),
    });
    const kubeconfig = join(await mkdtemp(join(tmpdir(), 'pgbackup-runner-')), 'kubeconfig');
    await writeFile(kubeconfig, runner.exportConfig(), { mode: 0o600 });
    // Nothing from the environment: credentials come from the Secrets, through the API.
    env = runEnvironment({
      KUBECONFIG: kubeconfig,
      PGUSER: undefined,
      PGPASSWORD: undefined,
      PGBACKUP_REPLICATION_USER: undefined,
      PGBACKUP_REPLICATION_PASSWORD: undefined,
      AWS_ACCESS_KEY_ID: undefined,
      AWS_SECRET_ACCESS_KEY: undefined,
    });
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

  it('takes the backup with its own service account and records it in a Completed Backup', async () => {
    const run = await startPgbackupRun(runArgs('2026-03-02T01:30:00Z'), env).outcome;

    expect(run.code, run.stderr).toBe(0);
    const [key] = await listCommitted(`${prefix}/${namespace}/${policyName}/binary/`);
    const backups = await listBackups(namespace);
    expect(backups).toHaveLength(1);
    expect(backups[0]?.spec).toEqual({ policy: policyName, type: 'binary', line: 'daily' });
    expect(backups[0]?.status).toMatchObject({
      phase: 'Completed',
      slotLabel: 'mon',
      artifact: { bucket: testBucket(), key },
      checksum: expect.stringMatching(/^sha256:[0-9a-f]{64}$/),
      startLsn: expect.stringMatching(/\//),
      serverVersion: expect.stringMatching(/^\d+\.\d+$/),
    });
  });

  it('serializes two runs started together on the Lease', async () => {
    // A gate holds the Lease until both runs are queued, so they truly start together.
    const lease = `${policyName}-binary`;
    const now = new Date().toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
    await kubectlApply(namespace, [
      {
        apiVersion: 'coordination.k8s.io/v1',
        kind: 'Lease',
        metadata: { name: lease },
        spec: { holderIdentity: 'test-gate', leaseDurationSeconds: 3600, renewTime: now },
      },
    ]);
    const runs = [
      startPgbackupRun(runArgs('2026-03-03T01:30:00Z'), env),
      startPgbackupRun(runArgs('2026-03-04T01:30:00Z'), env),
    ];
    await Promise.all(runs.map((run) => stderrContains(run, 'waiting for the Lease')));
    await kubectl([
      'patch',
      'lease',
      lease,
      '-n',
      namespace,
      '--type=merge',
      '-p',
      '{"spec":{"holderIdentity":null}}',
    ]);
    const outcomes = await Promise.all(runs.map((run) => run.outcome));

    for (const outcome of outcomes) expect(outcome.code, outcome.stderr).toBe(0);
    const [a, b] = outcomes.map(leaseWindow).sort((x, y) => x.acquiredMs - y.acquiredMs);
    expect(a?.releasedMs).toBeLessThanOrEqual(b?.acquiredMs ?? 0);
    const committed = await listCommitted(`${prefix}/${namespace}/${policyName}/binary/`);
    expect(committed).toHaveLength(3);
  });

  it('takes an on-demand Backup a user created, in no slot, and later daily runs keep it', async () => {
    const request = fixtureYaml<BackupObject>('binary/on-demand-backup.yaml');
    request.spec.policy = policyName;
    await kubectlApply(namespace, [request]);

    const run = await startPgbackupRun(
      [
        '--policy',
        `${namespace}/${policyName}`,
        '--type',
        'binary',
        '--backup',
        request.metadata.name,
      ],
      env,
    ).outcome;
    const daily = await startPgbackupRun(runArgs('2026-03-09T01:30:00Z'), env).outcome;

    expect(run.code, run.stderr).toBe(0);
    expect(daily.code, daily.stderr).toBe(0);
    const backup = (await listBackups(namespace)).find(
      (candidate) => candidate.metadata.name === request.metadata.name,
    );
    expect(backup?.status).toMatchObject({ phase: 'Completed' });
    expect(backup?.status).not.toHaveProperty('slot');
    const key = String((backup?.status?.artifact as { key?: string } | undefined)?.key);
    expect(key).toContain(`/${policyName}/binary/on-demand/`);
    expect(await listCommitted(`${prefix}/${namespace}/${policyName}/binary/`)).toContain(key);
  });

  it('records a failed run as phase Failed with the message it printed', async () => {
    await kubectlApply(namespace, [
      secretObject('orders-superuser', {
        username: requireEnv('PGUSER'),
        password: 'wrong-password',
      }),
    ]);

    const run = await startPgbackupRun(runArgs('2026-03-05T01:30:00Z'), env).outcome;

    expect(run.code).toBe(1);
    const failed = (await listBackups(namespace)).filter(
      (backup) => backup.status?.phase === 'Failed',
    );
    expect(failed).toHaveLength(1);
    const message = String(failed[0]?.status?.message);
    expect(message).toContain(`Secret ${namespace}/orders-superuser`);
    expect(run.stderr).toContain(`pgbackup run: ${message}`);
    expect(run.stderr + message).not.toContain('wrong-password');
  });
});
