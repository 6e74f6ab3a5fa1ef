/**
 * One catalog (DESIGN.md §3): the bucket is the catalog and `Backup` objects follow it. When a
 * run's rotation prunes a backup, its Backup goes too, so `kubectl get backups -l
 * pgbackup.dev/policy=NAME` and `pgbackup list` name the same backups.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { runKubectl } from '../../harness/kube.js';
import { startPgbackupRun } from '../../harness/pgbackup-run.js';
import {
  artifactKeyOf,
  type BackupObject,
  type RunnerPolicy,
  setUpRunnerPolicy,
} from '../../harness/runner-policy.js';
import { requireEnv } from '../../harness/variables.js';
import { rowsOf, runList } from '../list/list-run.js';

/** The Completed Backups `kubectl get backups -l pgbackup.dev/policy=NAME` lists: name to key. */
async function completedByLabel(policy: RunnerPolicy): Promise<Map<string, string>> {
  const result = await runKubectl([
    'get',
    'backups',
    '-n',
    policy.namespace,
    '-l',
    `pgbackup.dev/policy=${policy.policyName}`,
    '-o',
    'json',
  ]);
  expect(result.code, result.stderr).toBe(0);
  const items = (JSON.parse(result.stdout) as { items: BackupObject[] }).items;
  return new Map(
    items
      .filter((item) => item.status?.phase === 'Completed')
      .map((item) => [item.metadata.name, artifactKeyOf(item)]),
  );
}

/** The keys `pgbackup list --policy` prints (its last column). */
async function listedKeys(policy: RunnerPolicy): Promise<string[]> {
  const run = await runList(['--policy', `${policy.namespace}/${policy.policyName}`], policy.env);
  expect(run.code, run.stderr).toBe(0);
  return rowsOf(run.stdout).map((row) => row.at(-1) ?? '');
}

describe('the Backups of a policy follow its bucket', () => {
  let policy: RunnerPolicy;

  beforeAll(async () => {
    policy = await setUpRunnerPolicy({
      fixture: 'binary/in-cluster.yaml',
      podFixture: 'binary/postgres-pod.yaml',
      podAddresses: [requireEnv('PGBACKUP_REPLICA'), requireEnv('PGBACKUP_PRIMARY')],
      // One daily slot: the second day's backup replaces the first day's.
      edit: (edited) => {
        edited.spec.binary.lines = { daily: 1 };
      },
    });
  });

  it('deletes the Backup of the backup rotation pruned, and kubectl and pgbackup list agree', async () => {
    const target = `${policy.namespace}/${policy.policyName}`;
    const run = (at: string) =>
      startPgbackupRun(
        ['--policy', target, '--type', 'binary', '--line', 'daily', '--at', at],
        policy.env,
      ).outcome;

    const first = await run('2026-03-02T01:30:00Z');
    expect(first.code, first.stderr).toBe(0);
    const afterFirst = await completedByLabel(policy);
    expect(afterFirst.size).toBe(1);
    expect([...afterFirst.values()]).toEqual(await listedKeys(policy));

    const second = await run('2026-03-03T01:30:00Z');
    expect(second.code, second.stderr).toBe(0);
    const [firstKey] = [...afterFirst.values()];
    expect(second.stdout).toContain(`deleted ${firstKey}`);

    const afterSecond = await completedByLabel(policy);
    const listed = await listedKeys(policy);
    expect(listed).toHaveLength(1);
    expect(listed).not.toContain(firstKey);
    // The first day's Backup went with its backup: what kubectl lists is what the bucket holds.
    expect([...afterSecond.values()]).toEqual(listed);
    for (const name of afterFirst.keys()) expect(afterSecond.has(name)).toBe(false);
  });
});
