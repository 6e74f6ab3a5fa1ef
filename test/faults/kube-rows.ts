/**
 * The API server's faults, for runs inside a cluster (`pgbackup run --policy`), as the runner's
 * service account: error answers with `Retry-After` (the HTTP fault proxy, terminating TLS), an
 * outage of 30 s during a run (toxiproxy's proxy disabled), and the run's Lease taken over by
 * someone else mid-run. The runner reaches the API server only through the proxy (its
 * kubeconfig points there, TLS unverified: the proxy's certificate is its own); the test
 * reads Backups, Leases and the bucket directly. The pods stand for the scratch primary.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import type { Backup } from '../../src/api/index.js';
import {
  createControllerMetrics,
  recordBackupMetrics,
} from '../../src/controller/controller-metrics.js';
import { kubectl } from '../harness/cluster-objects.js';
import { addresses } from '../harness/env/layout.js';
import { waitUntil } from '../harness/env/processes.js';
import {
  type FaultRule,
  kubeErrorAnswer,
  startHttpFaultProxy,
} from '../harness/http-fault-proxy.js';
import { type RunOutcome, startPgbackupRun } from '../harness/pgbackup-run.js';
import { type RunnerPolicy, setUpRunnerPolicy } from '../harness/runner-policy.js';
import { testBucket } from '../harness/s3.js';
import { uniqueSuffix } from '../harness/variables.js';
import { type CatalogState, expectNothingLost, readCatalog } from './fault-catalog.js';
import { lastLineOf, recordRow } from './fault-table.js';
import { exitOf, type FaultWorld, slowS3Proxy } from './fault-world.js';

const API_SERVER = `https://${addresses.apiserver.host}:${addresses.apiserver.port}`;

/** The in-cluster policy the rows share, and what reaches its bucket. */
interface ClusterPolicy extends RunnerPolicy {
  readonly binaryPrefix: string;
}

async function setUpClusterPolicy(world: FaultWorld): Promise<ClusterPolicy> {
  const { primary } = world.pair;
  const policy = await setUpRunnerPolicy({
    fixture: 'binary/in-cluster.yaml',
    podFixture: 'binary/postgres-pod.yaml',
    podAddresses: [`${primary.host}:${primary.port}`],
    edit: (document) => {
      document.spec.target.port = primary.port;
      // The scratch primary has no replication role: the superuser replicates.
      delete document.spec.target.replicationCredentials;
      document.spec.binary.compression = 'none';
    },
  });
  const binaryPrefix = `${policy.prefix}/${policy.namespace}/${policy.policyName}/binary/`;
  return { ...policy, binaryPrefix };
}

/** A copy of the runner's kubeconfig whose server is `server` (TLS not verified). */
async function kubeconfigThrough(policy: RunnerPolicy, server: string): Promise<string> {
  const file = policy.env.KUBECONFIG ?? '';
  const config = parse(await readFile(file, 'utf8')) as {
    clusters: { cluster: Record<string, unknown> }[];
  };
  for (const { cluster } of config.clusters) {
    cluster.server = server;
    delete cluster['certificate-authority-data'];
    delete cluster['certificate-authority'];
    cluster['insecure-skip-tls-verify'] = true;
  }
  const copy = join(dirname(file), `kubeconfig-${uniqueSuffix()}`);
  await writeFile(copy, stringify(config), { mode: 0o600 });
  return copy;
}

/** Points the policy's bucket at `endpoint` (MinIO, or a fault proxy in front of it). */
async function setS3Endpoint(policy: RunnerPolicy, endpoint: string): Promise<void> {
  const patch = { spec: { storage: { s3: { endpoint } } } };
  await kubectl([
    ...['patch', 'backuppolicy', policy.policyName, '-n', policy.namespace],
    ...['--type=merge', '-p', JSON.stringify(patch)],
  ]);
}

async function listBackups(policy: RunnerPolicy): Promise<Backup[]> {
  const list = JSON.parse(await kubectl(['get', 'backups', '-n', policy.namespace, '-o', 'json']));
  return list.items as Backup[];
}

/**
 * The chart's PgBackupLastRunFailed for the daily line, from the metrics the controller
 * derives from these Backups: a failure newer than the last success, or no success at all.
 */
async function alertOf(policy: RunnerPolicy, backups: readonly Backup[]): Promise<string> {
  const metrics = createControllerMetrics(() => 0);
  recordBackupMetrics(metrics, { namespace: policy.namespace, name: policy.policyName }, backups);
  const sampleOf = async (name: string) =>
    (await metrics.registry.getSingleMetric(name)?.get())?.values.find(
      (sample) => sample.labels.line === 'daily',
    )?.value;
  const failure = await sampleOf('pgbackup_backup_last_failure_timestamp_seconds');
  const success = (await sampleOf('pgbackup_backup_last_success_timestamp_seconds')) ?? 0;
  return failure !== undefined && failure > success ? 'PgBackupLastRunFailed' : 'none';
}

/** The Backup the run made: the newest daily one not known before it. */
function backupOfRun(
  backups: readonly Backup[],
  knownNames: readonly string[],
): Backup | undefined {
  return backups
    .filter(
      (backup) => backup.spec.line === 'daily' && !knownNames.includes(backup.metadata.name ?? ''),
    )
    .sort((a, b) =>
      String(b.metadata.creationTimestamp).localeCompare(String(a.metadata.creationTimestamp)),
    )[0];
}

interface ClusterRowInput {
  readonly fault: string;
  /** What the run did, from its outcome and whether it committed a new backup. */
  readonly run: (outcome: RunOutcome, committed: boolean) => string;
  readonly before: CatalogState;
  readonly knownBackups: readonly string[];
  readonly outcome: RunOutcome;
}

/**
 * Records an in-cluster row and asserts its status tells the truth: a Completed Backup iff a
 * new backup is committed, its key that backup; a Failed one says why; the exit code agrees.
 */
async function recordClusterRow(policy: ClusterPolicy, input: ClusterRowInput): Promise<void> {
  const after = await readCatalog(testBucket(), policy.prefix);
  const backups = await listBackups(policy);
  const backup = backupOfRun(backups, input.knownBackups);
  const added = after.committed.filter((key) => !input.before.committed.includes(key));
  const phase = backup?.status?.phase ?? '(no Backup)';
  const message = backup?.status?.message ?? lastLineOf(input.outcome.stderr);
  recordRow({
    fault: input.fault,
    run: input.run(input.outcome, added.length > 0),
    committedBefore: input.before.committed.length,
    committedAfter: after.committed.length,
    partialListed: after.broken.length,
    exit: exitOf(input.outcome),
    phase,
    message,
    alert: await alertOf(policy, backups),
  });
  expectNothingLost(input.before, after);
  if (input.outcome.code === 0) {
    expect(phase).toBe('Completed');
    expect(added).toHaveLength(1);
  } else {
    expect(added, `a failed run committed a backup:\n${input.outcome.stderr}`).toEqual([]);
    expect(phase).not.toBe('Completed');
    expect(message).not.toBe('');
  }
}

/** The `--policy` run of the daily line for `at`, with `kubeconfig`. */
function startClusterRun(policy: RunnerPolicy, at: string, kubeconfig: string) {
  const target = `${policy.namespace}/${policy.policyName}`;
  const args = ['--policy', target, '--type', 'binary', '--line', 'daily', '--at', at];
  return startPgbackupRun(args, { ...policy.env, KUBECONFIG: kubeconfig });
}

async function stateBefore(policy: ClusterPolicy) {
  const before = await readCatalog(testBucket(), policy.prefix);
  const knownBackups = (await listBackups(policy)).map((backup) => backup.metadata.name ?? '');
  return { before, knownBackups };
}

/** A run through the HTTP fault proxy with `rules`; the row's outcome is the run's. */
async function errorAnswerRow(
  policy: () => ClusterPolicy,
  row: {
    readonly fault: string;
    readonly at: string;
    readonly rules: readonly FaultRule[];
    /** Whether the client may retry these requests (and so the run commits). */
    readonly retried: boolean;
  },
): Promise<void> {
  const proxy = await startHttpFaultProxy({ upstream: API_SERVER, tls: true });
  try {
    for (const rule of row.rules) proxy.addRule(rule);
    const kubeconfig = await kubeconfigThrough(policy(), proxy.url);
    const { before, knownBackups } = await stateBefore(policy());
    const outcome = await startClusterRun(policy(), row.at, kubeconfig).outcome;
    const answered = proxy.handled.filter(
      (request) => typeof request.outcome === 'number' && request.outcome >= 429,
    ).length;
    await recordClusterRow(policy(), {
      fault: row.fault,
      run: (result) =>
        `${answered} error answers; ${result.code === 0 ? 'retried, committed' : 'failed'}`,
      before,
      knownBackups,
      outcome,
    });
    if (row.retried) {
      expect(outcome.code, outcome.stderr).toBe(0);
    } else {
      expect(outcome.code).toBe(1);
      expect(outcome.stderr).toMatch(/answered 500/);
    }
  } finally {
    await proxy.close();
  }
}

/** The run's Lease (the queue's lock, not a waiting run's ticket) once someone holds it. */
async function heldLease(policy: RunnerPolicy): Promise<string> {
  return waitUntil(
    'the run holding its Lease',
    async () => {
      const list = JSON.parse(
        await kubectl(['get', 'leases', '-n', policy.namespace, '-o', 'json']),
      );
      const lock = (
        list.items as {
          metadata: { name: string; labels?: Record<string, string> };
          spec?: { holderIdentity?: string };
        }[]
      ).find(
        (lease) =>
          lease.metadata.labels?.['pgbackup.dev/lease-queue'] === undefined &&
          (lease.spec?.holderIdentity ?? '') !== '',
      );
      return lock?.metadata.name;
    },
    { timeoutMs: 60_000, intervalMs: 100 },
  );
}

/** Registers the API server's rows; `world` is read when they run. */
export function registerKubeRows(world: () => FaultWorld): void {
  let shared: ClusterPolicy | undefined;
  const policy = (): ClusterPolicy => {
    if (shared === undefined) throw new Error('the in-cluster policy is not set up');
    return shared;
  };

  it('sets up the in-cluster policy and takes its first backup through the real API server', async () => {
    shared = await setUpClusterPolicy(world());
    const direct = policy().env.KUBECONFIG ?? '';
    const seeded = await startClusterRun(policy(), '2026-03-01T01:30:00Z', direct).outcome;
    expect(seeded.code, seeded.stderr).toBe(0);
  });

  it('API server answers 429 (Retry-After: 1) three times: the run waits, retries and commits', async () => {
    await errorAnswerRow(policy, {
      fault: 'API 429 x3, Retry-After 1 s',
      at: '2026-03-02T01:30:00Z',
      rules: [{ match: () => true, action: kubeErrorAnswer(429, 'TooManyRequests', 1), times: 3 }],
      retried: true,
    });
  });

  it('API server answers 500 to Lease reads and renewals twice: the run retries and commits', async () => {
    await errorAnswerRow(policy, {
      fault: 'API 500 x2 on Lease reads/renewals',
      at: '2026-03-03T01:30:00Z',
      rules: [
        {
          // Reads and renewals (a replace with a resourceVersion) are safe to send twice.
          match: (request) => request.url.includes('/leases') && request.method !== 'POST',
          action: kubeErrorAnswer(500, 'InternalError'),
          times: 2,
        },
      ],
      retried: true,
    });
  });

  it('API server answers 500 to the queue ticket create: a create is not retried, the run fails and says so', async () => {
    await errorAnswerRow(policy, {
      fault: 'API 500 on the ticket create (POST)',
      at: '2026-03-06T01:30:00Z',
      rules: [
        {
          match: (request) => request.url.includes('/leases') && request.method === 'POST',
          action: kubeErrorAnswer(500, 'InternalError'),
          times: 1,
        },
      ],
      retried: false,
    });
  });

  it('the Lease taken over mid-run: the run stops before commit and says so', async () => {
    const { minioEndpoint } = world();
    // A slow bucket: the backup streams for seconds, long enough to lose the Lease in.
    const slow = await slowS3Proxy(world(), 4_096);
    await setS3Endpoint(policy(), `http://${slow.listen}`);
    try {
      const { before, knownBackups } = await stateBefore(policy());
      const run = startClusterRun(policy(), '2026-03-04T01:30:00Z', policy().env.KUBECONFIG ?? '');
      const lease = await heldLease(policy());
      await waitUntil(
        'the upload under way',
        async () => (await readCatalog(testBucket(), policy().prefix)).uploads > 0,
        { timeoutMs: 60_000, intervalMs: 50 },
      );
      const now = new Date().toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
      const takeover = {
        spec: {
          holderIdentity: 'intruder',
          renewTime: now,
          acquireTime: now,
          leaseDurationSeconds: 3600,
        },
      };
      await kubectl([
        'patch',
        'lease',
        lease,
        '-n',
        policy().namespace,
        '--type=merge',
        '-p',
        JSON.stringify(takeover),
      ]);
      const outcome = await run.outcome;
      await recordClusterRow(policy(), {
        fault: 'Lease taken over mid-run',
        run: (result) =>
          result.code === 0 ? 'committed without the Lease' : 'stopped before commit',
        before,
        knownBackups,
        outcome,
      });
      expect(outcome.code).toBe(1);
      expect(`${outcome.stderr}`).toMatch(/Lease/);
      await kubectl(['delete', 'lease', lease, '-n', policy().namespace]);
    } finally {
      await setS3Endpoint(policy(), minioEndpoint);
    }
  });

  // With the API server unreachable the runner's Lease renewals fail, yet the Lease was
  // renewed within its deadline, so the run commits (LockHolding.assertHeld); recording the
  // committed backup then retries until the API server is back, and the run exits 0.
  it('the API server unreachable for 30 s during a run: it commits, records the Backup Completed once the API server is back, and exits 0', async () => {
    const { toxiproxy, minioEndpoint } = world();
    const api = await toxiproxy.createProxy(`api-${uniqueSuffix()}`, new URL(API_SERVER).host);
    const slow = await slowS3Proxy(world(), 2_048);
    await setS3Endpoint(policy(), `http://${slow.listen}`);
    try {
      const kubeconfig = await kubeconfigThrough(policy(), `https://${api.listen}`);
      const { before, knownBackups } = await stateBefore(policy());
      const run = startClusterRun(policy(), '2026-03-05T01:30:00Z', kubeconfig);
      await waitUntil(
        'the upload under way',
        async () => (await readCatalog(testBucket(), policy().prefix)).uploads > 0,
        { timeoutMs: 60_000, intervalMs: 50 },
      );
      await api.setEnabled(false);
      await sleep(30_000);
      await api.setEnabled(true);
      const outcome = await run.outcome;
      await recordClusterRow(policy(), {
        fault: 'API server down 30 s mid-run',
        run: (result, committed) =>
          committed
            ? `committed while its Lease renewals failed; exit ${result.code}`
            : 'stopped before commit',
        before,
        knownBackups,
        outcome,
      });
      expect(outcome.code, outcome.stderr).toBe(0);
      const after = await readCatalog(testBucket(), policy().prefix);
      const added = after.committed.filter((key) => !before.committed.includes(key));
      expect(added).toHaveLength(1);
      const backup = backupOfRun(await listBackups(policy()), knownBackups);
      expect(backup?.status?.phase).toBe('Completed');
      // The Backup records the backup the bucket lists (catalog keys end in '/').
      expect(backup?.status?.artifact?.key.replace(/\/$/, '')).toBe(added[0]?.replace(/\/$/, ''));
    } finally {
      await setS3Endpoint(policy(), minioEndpoint);
    }
  });
}
