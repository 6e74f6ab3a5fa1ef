import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { replicationSlotNameOf } from '../../../src/postgres/index.js';
import { runPgbackup, startPgbackupRun } from '../../harness/pgbackup-run.js';
import { superuserClient, withClient } from '../../harness/postgres.js';
import { testS3Store } from '../../harness/s3.js';
import { usePgbenchDatabases } from './pgbench-databases.js';
import { listCommitted, listKeys, listUploads, runArgs, writeTestPolicy } from './policy-file.js';

async function slotExists(name: string): Promise<boolean> {
  return withClient(superuserClient('primary'), async (client) => {
    const result = await client.query('SELECT 1 FROM pg_replication_slots WHERE slot_name = $1', [
      name,
    ]);
    return result.rowCount === 1;
  });
}

/** Aborts what the killed run left, as clean-up will once it is older than a run can live. */
async function abortUploads(prefix: string): Promise<void> {
  await testS3Store().cleanUp(prefix, Date.now() + 60_000);
}

async function waitForUpload(prefix: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if ((await listUploads(prefix)).length > 0) return;
    await sleep(20);
  }
  throw new Error(`no multipart upload under ${prefix} within ${timeoutMs} ms`);
}

/** The pid of the runner's pg_basebackup, once it runs. */
async function childPgBasebackup(runnerPid: number): Promise<number> {
  for (let attempt = 0; attempt < 600; attempt += 1) {
    const children = await readFile(`/proc/${runnerPid}/task/${runnerPid}/children`, 'utf8').catch(
      () => '',
    );
    for (const pid of children.split(' ').filter(Boolean).map(Number)) {
      const command = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
      if (command.includes('pg_basebackup') && command.includes('--pgdata=-')) return pid;
    }
    await sleep(20);
  }
  throw new Error('the runner started no pg_basebackup');
}

describe('a binary run killed mid-upload', () => {
  const pgbenchDatabase = usePgbenchDatabases();

  it('leaves no manifest and the previous occupant intact; the next run succeeds and cleans up', async () => {
    // Uncompressed, the stream is well over one 16 MiB part: the upload is multipart.
    await pgbenchDatabase(10);
    const policy = await writeTestPolicy('uncompressed.yaml');
    const slot = replicationSlotNameOf(policy.namespace, policy.name);
    const previous = await runPgbackup(runArgs(policy, 'daily', '2026-03-01T01:30:00Z'));
    expect(previous.code, previous.stderr).toBe(0);
    const [occupant] = await listCommitted(policy.binaryPrefix);
    if (occupant === undefined) throw new Error('the first run committed nothing');
    const occupantKeys = await listKeys(occupant);

    // A week later, the same slot: killed once its upload is under way.
    const killed = startPgbackupRun(runArgs(policy, 'daily', '2026-03-08T01:30:00Z'));
    await waitForUpload(policy.binaryPrefix, 60_000);
    killed.child.kill('SIGKILL');
    const outcome = await killed.outcome;

    expect(outcome.signal).toBe('SIGKILL');
    expect(await listCommitted(policy.binaryPrefix)).toEqual([occupant]);
    expect(await listKeys(occupant)).toEqual(occupantKeys);
    expect(await listUploads(policy.binaryPrefix)).not.toEqual([]);
    expect(await slotExists(slot)).toBe(true);

    const next = await runPgbackup(runArgs(policy, 'daily', '2026-03-08T01:30:00Z'));

    expect(next.code, next.stderr).toBe(0);
    expect(next.stderr).toContain('dropped the replication slot a previous run left behind');
    const committed = await listCommitted(policy.binaryPrefix);
    expect(committed).toHaveLength(1);
    expect(committed).not.toEqual([occupant]);
    expect(await listKeys(occupant)).toEqual([]);
    // The killed run's upload is younger than the run deadline: clean-up cannot tell it from
    // a live run's (one that lost the lock), so it stays, never listed as a backup, until it
    // is older than the longest a run can live (test/integration/storage/s3-clean-up.test.ts).
    const [newest = ''] = committed;
    const leftovers = await listUploads(policy.binaryPrefix);
    expect(leftovers).not.toEqual([]);
    expect(leftovers.filter((key) => key.startsWith(newest))).toEqual([]);
    await abortUploads(policy.binaryPrefix);
    expect(await slotExists(slot)).toBe(false);
  });

  it('aborts the upload and commits nothing when pg_basebackup dies mid-stream', async () => {
    await pgbenchDatabase(10);
    const policy = await writeTestPolicy('uncompressed.yaml');
    const slot = replicationSlotNameOf(policy.namespace, policy.name);

    const run = startPgbackupRun(runArgs(policy, 'daily', '2026-03-01T01:30:00Z'));
    const pgBasebackup = await childPgBasebackup(run.child.pid ?? 0);
    await waitForUpload(policy.binaryPrefix, 60_000);
    process.kill(pgBasebackup, 'SIGKILL');
    const outcome = await run.outcome;

    expect(outcome.code).toBe(1);
    expect(outcome.stderr).toMatch(/pg_basebackup from \S+ failed \(signal SIGKILL\)/);
    expect(await listKeys(policy.binaryPrefix)).toEqual([]);
    expect(await listUploads(policy.binaryPrefix)).toEqual([]);
    expect(await slotExists(slot)).toBe(false);
  });
});
