/**
 * The Lease is the one lock of in-cluster runs, with fencing: a run whose Lease another run
 * took over stops before commit, leaving the slot's previous occupant; and releasing the
 * Lease after a commit can never turn the committed backup into a failure.
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectionOfKubeConfig, KubeClient } from '../../../src/kube/index.js';
import { runnerServiceAccountNameOf } from '../../../src/render/index.js';
import { formatKeyTimestamp } from '../../../src/storage/index.js';
import { type HttpFaultProxy, startHttpFaultProxy } from '../../harness/http-fault-proxy.js';
import { adminKubeConfig, serviceAccountKubeConfig } from '../../harness/kube.js';
import { startPgbackupRun, stderrContains } from '../../harness/pgbackup-run.js';
import {
  listBackupObjects,
  type RunnerPolicy,
  setUpRunnerPolicy,
} from '../../harness/runner-policy.js';
import { requireEnv } from '../../harness/variables.js';
import { listCommitted } from './policy-file.js';

const backupNameOf = (at: string) =>
  `orders-binary-daily-${formatKeyTimestamp(Date.parse(at)).toLowerCase()}`;

describe('the Lease of an in-cluster run', () => {
  let policy: RunnerPolicy;
  let admin: KubeClient;
  let proxy: HttpFaultProxy;

  beforeAll(async () => {
    policy = await setUpRunnerPolicy({
      fixture: 'binary/in-cluster.yaml',
      podFixture: 'binary/postgres-pod.yaml',
      podAddresses: [requireEnv('PGBACKUP_REPLICA'), requireEnv('PGBACKUP_PRIMARY')],
    });
    const adminConfig = adminKubeConfig();
    admin = await KubeClient.create(connectionOfKubeConfig(adminConfig));
    proxy = await startHttpFaultProxy({
      upstream: adminConfig.getCurrentCluster()?.server ?? '',
      tls: true,
    });
  });
  afterAll(async () => {
    admin?.close();
    await proxy?.close();
  });

  const runArgs = (at: string) => [
    '--policy',
    `${policy.namespace}/${policy.policyName}`,
    '--type',
    'binary',
    '--line',
    'daily',
    '--at',
    at,
  ];
  const prefix = () => `${policy.prefix}/${policy.namespace}/${policy.policyName}/binary/`;

  it('stops a run whose Lease another run took over before it commits, keeping the previous occupant', async () => {
    // Monday 2026-03-02 and Monday 2026-03-09 fill the same slot of the daily line.
    const first = await startPgbackupRun(runArgs('2026-03-02T01:30:00Z'), policy.env).outcome;
    expect(first.code, first.stderr).toBe(0);
    const before = await listCommitted(prefix());
    expect(before).toHaveLength(1);

    const run = startPgbackupRun(runArgs('2026-03-09T01:30:00Z'), policy.env);
    await stderrContains(run, 'acquired the Lease');
    // Another run takes the Lease over (as one would that saw it expire).
    await admin.request({
      verb: 'patch',
      path: `/apis/coordination.k8s.io/v1/namespaces/${policy.namespace}/leases/${policy.policyName}-binary`,
      body: { spec: { holderIdentity: 'another-run' } },
      contentType: 'application/merge-patch+json',
      what: 'take the Lease over',
    });
    const outcome = await run.outcome;

    expect(outcome.code).toBe(1);
    expect(outcome.stderr).toContain('to "another-run": the run stops before commit');
    expect(await listCommitted(prefix())).toEqual(before);
    const fenced = (await listBackupObjects(policy.namespace)).find(
      (backup) => backup.metadata.name === backupNameOf('2026-03-09T01:30:00Z'),
    );
    expect(fenced?.status).toMatchObject({ phase: 'Failed' });
    expect(String(fenced?.status?.message)).toContain('the run stops before commit');
    // The Lease stays the other run's.
    await admin.request({
      verb: 'patch',
      path: `/apis/coordination.k8s.io/v1/namespaces/${policy.namespace}/leases/${policy.policyName}-binary`,
      body: { spec: { holderIdentity: null } },
      contentType: 'application/merge-patch+json',
      what: 'end the other run',
    });
  });

  it('keeps a committed backup Completed (exit 0) when releasing the Lease fails', async () => {
    // The runner's own identity, through a proxy that can refuse what the test chooses.
    const account = await serviceAccountKubeConfig(adminKubeConfig(), {
      namespace: policy.namespace,
      name: runnerServiceAccountNameOf(policy.policyName),
    });
    const proxied = new KubeConfig();
    proxied.loadFromOptions({
      clusters: [{ name: 'proxy', server: proxy.url, skipTLSVerify: true }],
      users: [{ name: 'runner', token: account.getCurrentUser()?.token }],
      contexts: [{ name: 'proxy', cluster: 'proxy', user: 'runner' }],
      currentContext: 'proxy',
    });
    const kubeconfig = join(await mkdtemp(join(tmpdir(), 'pgbackup-proxied-')), 'kubeconfig');
    await writeFile(kubeconfig, proxied.exportConfig(), { mode: 0o600 });
    const at = '2026-03-10T01:30:00Z';
    const statusPath = `/backups/${backupNameOf(at)}/status`;
    const leasePath = `/leases/${policy.policyName}-binary`;

    const run = startPgbackupRun(runArgs(at), { ...policy.env, KUBECONFIG: kubeconfig });
    // Running, then Completed: only then does the API server refuse every write of the Lease.
    await proxy.waitForRequest((request) => request.url.endsWith(statusPath), 120_000);
    await proxy.waitForRequest((request) => request.url.endsWith(statusPath), 120_000);
    proxy.addRule({
      match: (request) => request.method === 'PUT' && request.url.endsWith(leasePath),
      action: {
        kind: 'answer',
        status: 500,
        body: JSON.stringify({
          kind: 'Status',
          code: 500,
          reason: 'InternalError',
          message: 'injected',
        }),
      },
      times: Number.POSITIVE_INFINITY,
    });
    const outcome = await run.outcome;
    proxy.clear();

    expect(outcome.code, outcome.stderr).toBe(0);
    expect(outcome.stderr).toContain('could not release the Lease');
    const backup = (await listBackupObjects(policy.namespace)).find(
      (found) => found.metadata.name === backupNameOf(at),
    );
    expect(backup?.status).toMatchObject({ phase: 'Completed' });
  });
});
