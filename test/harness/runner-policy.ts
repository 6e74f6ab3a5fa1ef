/**
 * A policy set up for the runner's in-cluster tests, as the controller would leave it: the
 * CRDs, a namespace, the environment's Secrets, the policy from a fixture (with the test's
 * bucket prefix and a cluster label of its own), the runner's RBAC, PostgreSQL pods standing
 * for the environment's servers, and a kubeconfig of the runner's service account.
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BackupPolicy, formatIssues, parseBackupPolicy } from '../../src/api/index.js';
import { renderRunnerRbac, runnerServiceAccountNameOf } from '../../src/render/index.js';
import { installCrds } from '../controlplane/api/install-crds.js';
import { createPostgresPod, environmentSecrets, kubectl, kubectlApply } from './cluster-objects.js';
import { fixtureYaml } from './fixtures.js';
import { adminKubeConfig, createTestNamespace, serviceAccountKubeConfig } from './kube.js';
import { type RunOutcome, runEnvironment, startPgbackupRun } from './pgbackup-run.js';
import { testBucket, testPrefix } from './s3.js';
import { requireEnv, uniqueSuffix } from './variables.js';

/** The policy's coordinates, and the environment a run as its service account gets. */
export interface RunnerPolicy {
  readonly namespace: string;
  readonly policyName: string;
  readonly prefix: string;
  readonly env: NodeJS.ProcessEnv;
}

/** What {@link setUpRunnerPolicy} needs. */
export interface RunnerPolicyInput {
  /** The policy fixture, under test/fixtures/; its selector gets the test's cluster label. */
  readonly fixture: string;
  /** The pod fixture, under test/fixtures/. */
  readonly podFixture: string;
  /** `host:port` of the servers pods stand for (the environment's primary and replica). */
  readonly podAddresses: readonly string[];
  /** Further changes to the policy before it is applied. */
  readonly edit?: (policy: BackupPolicy) => void;
}

/** A Backup as a test reads it. */
export interface BackupObject {
  metadata: { name: string };
  spec: { policy: string; type: string; line?: string };
  status?: Record<string, unknown>;
}

/** The Backups in a namespace. */
export async function listBackupObjects(namespace: string): Promise<BackupObject[]> {
  const list = JSON.parse(await kubectl(['get', 'backups', '-n', namespace, '-o', 'json']));
  return list.items as BackupObject[];
}

/** The object key a Backup's status names as its artifact. */
export function artifactKeyOf(backup: BackupObject | undefined): string {
  return String((backup?.status?.artifact as { key?: string } | undefined)?.key);
}

/** What {@link runOnDemandBackup} did: the Backup it created and how the run ended. */
export interface OnDemandRun {
  readonly name: string;
  readonly run: RunOutcome;
}

/**
 * Creates the on-demand Backup of a fixture (under test/fixtures/) for the policy, as a user
 * would, and runs it as the controller's Job does: `--policy NS/NAME --type TYPE --backup NAME`.
 */
export async function runOnDemandBackup(
  policy: RunnerPolicy,
  fixture: string,
  type: 'binary' | 'logical',
): Promise<OnDemandRun> {
  const request = fixtureYaml<BackupObject>(fixture);
  request.spec.policy = policy.policyName;
  await kubectlApply(policy.namespace, [request]);
  const target = `${policy.namespace}/${policy.policyName}`;
  const args = ['--policy', target, '--type', type, '--backup', request.metadata.name];
  const run = await startPgbackupRun(args, policy.env).outcome;
  return { name: request.metadata.name, run };
}

/** Sets the policy up; runs get `env` (no credentials: they come from the Secrets). */
export async function setUpRunnerPolicy(input: RunnerPolicyInput): Promise<RunnerPolicy> {
  await installCrds();
  const admin = adminKubeConfig();
  const namespace = await createTestNamespace(admin);
  const cluster = `orders-${uniqueSuffix()}`;
  const prefix = testPrefix();
  const policy = fixtureYaml<BackupPolicy>(input.fixture);
  const policyName = policy.metadata.name ?? '';
  policy.metadata.namespace = namespace;
  const matchLabels = policy.spec.target.selector?.matchLabels ?? {};
  matchLabels.cluster = cluster;
  Object.assign(policy.spec.storage?.s3 ?? {}, {
    bucket: testBucket(),
    prefix,
    endpoint: requireEnv('PGBACKUP_S3_ENDPOINT'),
    region: requireEnv('AWS_REGION'),
  });
  input.edit?.(policy);
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
  // The policy as stored (every default applied), as the controller renders from it.
  const parsed = parseBackupPolicy(created);
  if (!parsed.ok) throw new Error(`${formatIssues('BackupPolicy', policyName, parsed.issues)}`);
  await kubectlApply(namespace, renderRunnerRbac(parsed.value, owner));
  for (const address of input.podAddresses) {
    await createPostgresPod(namespace, {
      fixture: input.podFixture,
      address,
      labels: { cluster },
    });
  }
  const runner = await serviceAccountKubeConfig(admin, {
    namespace,
    name: runnerServiceAccountNameOf(policyName),
  });
  const kubeconfig = join(await mkdtemp(join(tmpdir(), 'pgbackup-runner-')), 'kubeconfig');
  await writeFile(kubeconfig, runner.exportConfig(), { mode: 0o600 });
  // Nothing from the environment: credentials come from the Secrets, through the API.
  const env = runEnvironment({
    KUBECONFIG: kubeconfig,
    PGUSER: undefined,
    PGPASSWORD: undefined,
    PGBACKUP_REPLICATION_USER: undefined,
    PGBACKUP_REPLICATION_PASSWORD: undefined,
    AWS_ACCESS_KEY_ID: undefined,
    AWS_SECRET_ACCESS_KEY: undefined,
  });
  return { namespace, policyName, prefix, env };
}
