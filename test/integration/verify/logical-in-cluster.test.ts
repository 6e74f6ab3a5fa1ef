/**
 * The logical drill of an in-cluster policy, as its verify CronJob runs it (`--scheduled`,
 * no `--type`): a policy taking logical backups only gets the logical drill, one taking both
 * kinds gets the binary drill and then the logical one; each result is written to
 * status.verification of the Backup that recorded the backup it checked.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPgbackupRun } from '../../harness/pgbackup-run.js';
import { createTestDatabase, superuserClient, withClient } from '../../harness/postgres.js';
import {
  artifactKeyOf,
  listBackupObjects,
  type RunnerPolicy,
  setUpRunnerPolicy,
} from '../../harness/runner-policy.js';
import { requireEnv } from '../../harness/variables.js';
import { dropTestDatabase } from '../binary/policy-file.js';
import { waitForReplica } from '../logical/source-databases.js';
import { giveToDrillUser, runVerify } from './verify-run.js';

describe('pgbackup verify --policy --scheduled of a logical-only policy', () => {
  let database: string;
  let policy: RunnerPolicy;

  beforeAll(async () => {
    database = await createTestDatabase();
    await withClient(superuserClient('primary', database), (client) =>
      client.query(
        'CREATE TABLE items (id int PRIMARY KEY, name text); INSERT INTO items SELECT n, md5(n::text) FROM generate_series(1, 777) n',
      ),
    );
    await waitForReplica();
    policy = await setUpRunnerPolicy({
      fixture: 'logical/in-cluster.yaml',
      podFixture: 'binary/postgres-pod.yaml',
      podAddresses: [requireEnv('PGBACKUP_PRIMARY'), requireEnv('PGBACKUP_REPLICA')],
      edit: (document) => {
        Object.assign(document.spec.logical, { databases: [database] });
        // renderRunnerRbac reads spec.continuous, which the raw fixture lacks.
        Object.assign(document.spec, {
          verify: { schedule: 'daily' },
          continuous: { enabled: false },
        });
      },
    });
    await giveToDrillUser(policy.env.KUBECONFIG ?? '');
    const target = `${policy.namespace}/${policy.policyName}`;
    const backup = await startPgbackupRun(
      ['--policy', target, '--type', 'logical', '--line', 'weekly', '--at', '2026-03-01T02:30:00Z'],
      policy.env,
    ).outcome;
    expect(backup.code, backup.stderr).toBe(0);
  });
  afterAll(async () => {
    if (database !== undefined) await dropTestDatabase(database);
  });

  it('runs the logical drill and records Passed in the logical Backup', async () => {
    const run = await runVerify(
      ['--policy', `${policy.namespace}/${policy.policyName}`, '--scheduled'],
      { env: policy.env },
    );

    expect(run.code, `${run.stdout}\n${run.stderr}`).toBe(0);
    const [backup] = await listBackupObjects(policy.namespace);
    expect(run.stdout).toContain(`Passed: ${artifactKeyOf(backup)}`);
    expect(run.stdout).toContain(
      `recorded in Backup ${policy.namespace}/${backup?.metadata.name} (status.verification)`,
    );
    expect(backup?.spec.type).toBe('logical');
    expect(backup?.status).toMatchObject({
      phase: 'Completed',
      verification: {
        result: 'Passed',
        message: expect.stringContaining(
          `database "${database}": 1 table, 1 constraint restored as listed, 777 rows in 1 table as in the dump (pg_restore `,
        ),
        restoreSeconds: expect.any(Number),
      },
    });
  });
});

describe('pgbackup verify --policy --scheduled of a policy taking both kinds of backup', () => {
  let database: string;
  let policy: RunnerPolicy;

  beforeAll(async () => {
    database = await createTestDatabase();
    await waitForReplica();
    policy = await setUpRunnerPolicy({
      fixture: 'binary/in-cluster.yaml',
      podFixture: 'binary/postgres-pod.yaml',
      podAddresses: [requireEnv('PGBACKUP_REPLICA'), requireEnv('PGBACKUP_PRIMARY')],
      edit: (document) => {
        Object.assign(document.spec, {
          logical: { enabled: true, lines: { weekly: 4 }, databases: [database] },
          verify: { schedule: 'daily' },
          continuous: { enabled: false },
        });
      },
    });
    await giveToDrillUser(policy.env.KUBECONFIG ?? '');
    const target = `${policy.namespace}/${policy.policyName}`;
    for (const args of [
      ['--type', 'binary', '--line', 'daily', '--at', '2026-03-02T01:30:00Z'],
      ['--type', 'logical', '--line', 'weekly', '--at', '2026-03-01T02:30:00Z'],
    ]) {
      const backup = await startPgbackupRun(['--policy', target, ...args], policy.env).outcome;
      expect(backup.code, backup.stderr).toBe(0);
    }
  });
  afterAll(async () => {
    if (database !== undefined) await dropTestDatabase(database);
  });

  it('runs the binary drill, then the logical one, each recorded in its own Backup', async () => {
    const run = await runVerify(
      ['--policy', `${policy.namespace}/${policy.policyName}`, '--scheduled'],
      { env: policy.env },
    );

    expect(run.code, `${run.stdout}\n${run.stderr}`).toBe(0);
    const backups = await listBackupObjects(policy.namespace);
    const binary = backups.find((backup) => backup.spec.type === 'binary');
    const logical = backups.find((backup) => backup.spec.type === 'logical');
    const binaryAt = run.stdout.indexOf(`Passed: ${artifactKeyOf(binary)}`);
    const logicalAt = run.stdout.indexOf(`Passed: ${artifactKeyOf(logical)}`);
    expect(binaryAt, run.stdout).toBeGreaterThanOrEqual(0);
    expect(logicalAt, run.stdout).toBeGreaterThan(binaryAt);
    expect(binary?.status).toMatchObject({
      verification: { result: 'Passed', message: expect.stringContaining('pg_amcheck checked') },
    });
    expect(logical?.status).toMatchObject({
      verification: {
        result: 'Passed',
        message: expect.stringContaining(`database "${database}"`),
      },
    });
  });
});
