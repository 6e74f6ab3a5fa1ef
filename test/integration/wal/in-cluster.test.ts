/**
 * The receiver as the controller's Deployment runs it: `wal-receive --policy NS/NAME` with the
 * runner's service account, the policy's Secrets and pods read through the API, its status in
 * the policy's status.continuous (server-side apply, field manager pgbackup-wal-receiver), and
 * /metrics and /healthz on its metrics address.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ContinuousStatus } from '../../../src/api/index.js';
import { walSlotNameOf } from '../../../src/postgres/index.js';
import { kubectl } from '../../harness/cluster-objects.js';
import { type StartedRun, startPgbackup } from '../../harness/pgbackup-run.js';
import { superuserClient, withClient } from '../../harness/postgres.js';
import { type RunnerPolicy, setUpRunnerPolicy } from '../../harness/runner-policy.js';
import { requireEnv } from '../../harness/variables.js';
import { makeWal, waitFor } from './receiver-harness.js';

interface PolicyObject {
  status?: { continuous?: ContinuousStatus };
  metadata: { managedFields?: { manager: string; subresource?: string }[] };
}

async function readPolicy(policy: RunnerPolicy): Promise<PolicyObject> {
  return JSON.parse(
    await kubectl([
      'get',
      'backuppolicy',
      policy.policyName,
      '-n',
      policy.namespace,
      '-o',
      'json',
      '--show-managed-fields',
    ]),
  ) as PolicyObject;
}

describe('the WAL receiver in a cluster (--policy)', () => {
  let policy: RunnerPolicy;
  let receiver: StartedRun | undefined;

  beforeAll(async () => {
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
      },
    });
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
  }, 120_000);

  it('streams with its service account, reports status.continuous and serves /metrics', async () => {
    const address = `127.0.0.1:${40_000 + Math.floor(Math.random() * 10_000)}`;
    const spool = join(await mkdtemp(join(tmpdir(), 'pgbackup-wal-spool-')), 'spool');
    const started = startPgbackup(
      [
        'wal-receive',
        '--policy',
        `${policy.namespace}/${policy.policyName}`,
        '--spool',
        spool,
        '--metrics-address',
        address,
        '--status-interval',
        '1',
      ],
      policy.env,
    );
    receiver = started;
    const streaming = await waitFor(
      'status.continuous Streaming',
      async () => {
        const status = (await readPolicy(policy)).status?.continuous;
        return status?.state === 'Streaming' ? status : undefined;
      },
      60_000,
      started,
    );
    expect(streaming.slot?.name).toBe(walSlotNameOf(policy.namespace, policy.policyName));
    await withClient(superuserClient('primary'), (client) => makeWal(client, 1));
    const archived = await waitFor(
      'status.continuous.lastArchived',
      async () => (await readPolicy(policy)).status?.continuous?.lastArchived,
      30_000,
      started,
    );
    expect(archived.file).toMatch(/^[0-9A-F]{24}\.zst(\.partial)?$/);
    const managers = (await readPolicy(policy)).metadata.managedFields ?? [];
    expect(managers).toContainEqual(
      expect.objectContaining({ manager: 'pgbackup-wal-receiver', subresource: 'status' }),
    );
    const metrics = await (await fetch(`http://${address}/metrics`)).text();
    expect(metrics).toMatch(
      new RegExp(
        `pgbackup_wal_state\\{[^}]*state="Streaming"[^}]*policy="${policy.policyName}"[^}]*\\} 1|pgbackup_wal_state\\{[^}]*policy="${policy.policyName}"[^}]*state="Streaming"[^}]*\\} 1`,
      ),
    );
    expect(metrics).toMatch(/pgbackup_wal_lag_bytes\{/);
    expect((await fetch(`http://${address}/healthz`)).status).toBe(200);
    started.child.kill('SIGTERM');
    const outcome = await started.outcome;
    expect(outcome.code, outcome.stderr.slice(-3000)).toBe(0);
  }, 180_000);
});
