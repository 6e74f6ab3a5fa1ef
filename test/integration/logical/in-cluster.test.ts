import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPgbackupRun } from '../../harness/pgbackup-run.js';
import { createTestDatabase, superuserClient, withClient } from '../../harness/postgres.js';
import {
  artifactKeyOf,
  listBackupObjects,
  runOnDemandBackup,
  setUpRunnerPolicy,
} from '../../harness/runner-policy.js';
import { testBucket } from '../../harness/s3.js';
import { requireEnv } from '../../harness/variables.js';
import { dropTestDatabase, listCommitted } from '../binary/policy-file.js';
import { readManifest } from './restore-dump.js';
import { waitForReplica } from './source-databases.js';

/** A completed replica dump's message: none, or the note saying how far behind the replica was. */
const REPLICA_LAG_NOTE_OR_NOTHING = /^(taken from the replica .* bytes behind the primary .*)?$/s;

function runArgs(namespace: string, policy: string): string[] {
  const at = '2026-03-01T02:30:00Z';
  return [
    '--policy',
    `${namespace}/${policy}`,
    '--type',
    'logical',
    '--line',
    'weekly',
    '--at',
    at,
  ];
}

describe('a logical run in a cluster (--policy)', () => {
  let database: string;

  beforeAll(async () => {
    database = await createTestDatabase();
    await waitForReplica();
  });

  afterAll(async () => {
    if (database !== undefined) await dropTestDatabase(database);
  });

  /** The policy of the test's database, with pods standing for `podAddresses`. */
  const setUpPolicy = (podAddresses: string[], logical: Record<string, unknown> = {}) =>
    setUpRunnerPolicy({
      fixture: 'logical/in-cluster.yaml',
      podFixture: 'binary/postgres-pod.yaml',
      podAddresses,
      edit: (policy) => Object.assign(policy.spec.logical, { databases: [database], ...logical }),
    });

  it('dumps the replica with its own service account and records a Completed Backup', async () => {
    const { namespace, policyName, prefix, env } = await setUpPolicy([
      requireEnv('PGBACKUP_PRIMARY'),
      requireEnv('PGBACKUP_REPLICA'),
    ]);

    const run = await startPgbackupRun(runArgs(namespace, policyName), env).outcome;

    expect(run.code, run.stderr).toBe(0);
    const [key] = await listCommitted(`${prefix}/${namespace}/${policyName}/logical/`);
    const manifest = await readManifest(key ?? '');
    expect(manifest.server.host).toBe(requireEnv('PGBACKUP_REPLICA'));
    const backups = await listBackupObjects(namespace);
    expect(backups).toHaveLength(1);
    expect(backups[0]?.spec).toEqual({ policy: policyName, type: 'logical', line: 'weekly' });
    expect(backups[0]?.status).toMatchObject({
      phase: 'Completed',
      slotLabel: 'sun-3',
      artifact: { bucket: testBucket(), key },
      sizeBytes: manifest.objects.reduce((sum, object) => sum + object.sizeBytes, 0),
      checksum: expect.stringMatching(/^sha256:[0-9a-f]{64}$/),
      serverVersion: expect.stringMatching(/^\d+\.\d+$/),
    });
    // No message, but for the note a replica a few bytes behind a busy shared primary gets.
    expect(String(backups[0]?.status?.message ?? '')).toMatch(REPLICA_LAG_NOTE_OR_NOTHING);
  });

  it('takes an on-demand logical Backup a user created, in no slot', async () => {
    const policy = await setUpPolicy([
      requireEnv('PGBACKUP_PRIMARY'),
      requireEnv('PGBACKUP_REPLICA'),
    ]);
    const { namespace, policyName, prefix } = policy;
    const { name, run } = await runOnDemandBackup(
      policy,
      'logical/on-demand-backup.yaml',
      'logical',
    );

    expect(run.code, run.stderr).toBe(0);
    // Recorded in the user's Backup only, still without a line: no Backup of a line is made.
    const backups = await listBackupObjects(namespace);
    expect(backups.map((candidate) => [candidate.metadata.name, candidate.spec])).toEqual([
      [name, { policy: policyName, type: 'logical' }],
    ]);
    const [backup] = backups;
    expect(backup?.status).toMatchObject({ phase: 'Completed' });
    expect(backup?.status).not.toHaveProperty('slot');
    const key = artifactKeyOf(backup);
    expect(key).toContain(`/${policyName}/logical/on-demand/`);
    expect(await listCommitted(`${prefix}/${namespace}/${policyName}/logical/`)).toEqual([key]);
    // The manifest says "on demand" as the backups already in buckets do.
    expect(await readManifest(key)).toMatchObject({
      line: '',
      period: 0,
      slot: 0,
      slotLabel: 'on-demand',
    });
  });

  it('run again after a failure, an on-demand Backup keeps nothing of the failed attempt', async () => {
    // The first attempt fails: the policy lists a database the server does not have yet.
    const missing = `${database}_later`;
    const policy = await setUpRunnerPolicy({
      fixture: 'logical/in-cluster.yaml',
      podFixture: 'binary/postgres-pod.yaml',
      podAddresses: [requireEnv('PGBACKUP_PRIMARY'), requireEnv('PGBACKUP_REPLICA')],
      edit: (resource) => Object.assign(resource.spec.logical, { databases: [missing] }),
    });
    const failed = await runOnDemandBackup(policy, 'logical/on-demand-backup.yaml', 'logical');
    expect(failed.run.code).toBe(1);
    const [attempt] = await listBackupObjects(policy.namespace);
    expect(attempt?.status).toMatchObject({
      phase: 'Failed',
      message: expect.stringContaining(missing),
    });

    await withClient(superuserClient('primary'), (client) =>
      client.query(`CREATE DATABASE ${client.escapeIdentifier(missing)}`),
    );
    try {
      await waitForReplica();
      const retried = await runOnDemandBackup(policy, 'logical/on-demand-backup.yaml', 'logical');

      expect(retried.run.code, retried.run.stderr).toBe(0);
      const [backup] = await listBackupObjects(policy.namespace);
      expect(backup?.metadata.name).toBe(failed.name);
      expect(backup?.status).toMatchObject({ phase: 'Completed', sizeBytes: expect.any(Number) });
      // The failed attempt's message is gone (a lag note of the replica may stand instead).
      expect(String(backup?.status?.message ?? '')).toMatch(REPLICA_LAG_NOTE_OR_NOTHING);
    } finally {
      await dropTestDatabase(missing);
    }
  });

  it('with no replica among the pods, dumps the primary when allowed and says so in the Backup', async () => {
    const { namespace, policyName, env } = await setUpPolicy([requireEnv('PGBACKUP_PRIMARY')], {
      fallbackToPrimary: true,
    });

    const run = await startPgbackupRun(runArgs(namespace, policyName), env).outcome;

    expect(run.code, run.stderr).toBe(0);
    const [backup] = await listBackupObjects(namespace);
    expect(backup?.status).toMatchObject({
      phase: 'Completed',
      message: expect.stringContaining(
        `taken from the primary ${requireEnv('PGBACKUP_PRIMARY')} because no replica was available (spec.logical.fallbackToPrimary is true)`,
      ),
    });
  });

  it('with no replica and no fallback, records the failure with what each pod said', async () => {
    const { namespace, policyName, env } = await setUpPolicy([requireEnv('PGBACKUP_PRIMARY')]);

    const run = await startPgbackupRun(runArgs(namespace, policyName), env).outcome;

    expect(run.code).toBe(1);
    const [backup] = await listBackupObjects(namespace);
    expect(backup?.status?.phase).toBe('Failed');
    const message = String(backup?.status?.message);
    expect(message).toContain(`no replica to dump among the pods in namespace ${namespace}`);
    expect(message).toContain(`${requireEnv('PGBACKUP_PRIMARY')}: the primary`);
    expect(run.stderr).toContain(message.split('\n')[0]);
  });
});
