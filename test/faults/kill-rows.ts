/**
 * The runner SIGKILLed in each phase, as a node losing its pod would: queued behind another
 * run of the policy, streaming, after the data and before the manifest, and during rotation.
 * The exact step is reached by holding the one request the runner is about to make in the
 * HTTP fault proxy (the manifest's PUT, a rotation DELETE), so no timing is guessed.
 */
import { expect, it } from 'vitest';
import { advisoryLockKeyOf } from '../../src/postgres/index.js';
import { waitUntil } from '../harness/env/processes.js';
import { type SeenRequest, startHttpFaultProxy } from '../harness/http-fault-proxy.js';
import { withClient } from '../harness/postgres.js';
import { expectNothingLost, readCatalog } from './fault-catalog.js';
import { POLICY, startFaultRun } from './fault-policy.js';
import {
  FAULT_AT,
  type FaultWorld,
  recordFileRow,
  rowPolicy,
  SCRATCH_RUN_ENV,
  waitForUpload,
} from './fault-world.js';

/** A week after SEED_AT: the same daily slot, so a commit rotates the seed out. */
const SAME_SLOT_AT = '2026-03-08T01:30:00Z';

function isManifestPut(request: SeenRequest): boolean {
  return request.method === 'PUT' && request.url.split('?')[0]?.endsWith('/manifest.json') === true;
}

function isDelete(request: SeenRequest): boolean {
  return request.method === 'DELETE' && !request.url.includes('uploadId=');
}

/** Registers the kill rows; `world` is read when they run. */
export function registerKillRows(world: () => FaultWorld): void {
  it('SIGKILL while queued behind another run: nothing changes', async () => {
    const { pair } = world();
    const policy = await rowPolicy(world());
    const before = await readCatalog(policy.bucket, policy.prefix);
    const key = advisoryLockKeyOf(POLICY.namespace, POLICY.name, 'binary');
    const holder = pair.primary.client('postgres');
    await holder.connect();
    try {
      // Another run of the policy, as far as the lock is concerned.
      await holder.query('SELECT pg_advisory_lock($1::bigint)', [key]);
      const run = startFaultRun(policy, { line: 'daily', at: FAULT_AT }, SCRATCH_RUN_ENV);
      await waitUntil(
        'the run waiting for the policy lock',
        () =>
          withClient(pair.primary.client('postgres'), async (client) => {
            const waiting = await client.query(
              "SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND NOT granted",
            );
            return (waiting.rowCount ?? 0) > 0;
          }),
        { timeoutMs: 60_000, intervalMs: 50 },
      );
      run.child.kill('SIGKILL');
      const outcome = await run.outcome;
      const after = await readCatalog(policy.bucket, policy.prefix);
      recordFileRow({
        fault: 'runner SIGKILL, queued',
        run: 'killed while waiting',
        before,
        after,
        outcome,
      });
      expect(outcome.signal).toBe('SIGKILL');
      expect(after).toEqual(before);
    } finally {
      await holder.end();
    }
  });

  it('SIGKILL while streaming: the seed stays, the upload is not a backup', async () => {
    const policy = await rowPolicy(world());
    const before = await readCatalog(policy.bucket, policy.prefix);
    const run = startFaultRun(policy, { line: 'daily', at: FAULT_AT }, SCRATCH_RUN_ENV);
    await waitForUpload(policy, run);
    run.child.kill('SIGKILL');
    const outcome = await run.outcome;
    const after = await readCatalog(policy.bucket, policy.prefix);
    recordFileRow({
      fault: 'runner SIGKILL, streaming',
      run: `killed; ${after.uploads} upload(s) left for clean-up`,
      before,
      after,
      outcome,
    });
    expect(outcome.signal).toBe('SIGKILL');
    expectNothingLost(before, after);
    expect(after.committed).toEqual(before.committed);
  });

  it('SIGKILL after the data, before the manifest: the data is not listed as a backup', async () => {
    const proxy = await startHttpFaultProxy({ upstream: world().minioEndpoint });
    try {
      proxy.addRule({ match: isManifestPut, action: { kind: 'hold' }, times: 1 });
      const policy = await rowPolicy(world(), { endpoint: proxy.url });
      const before = await readCatalog(policy.bucket, policy.prefix);
      const run = startFaultRun(policy, { line: 'daily', at: FAULT_AT }, SCRATCH_RUN_ENV);
      await proxy.waitForRequest(isManifestPut, 120_000);
      run.child.kill('SIGKILL');
      const outcome = await run.outcome;
      const after = await readCatalog(policy.bucket, policy.prefix);
      recordFileRow({
        fault: 'runner SIGKILL, data written, manifest not',
        run: `killed; ${after.leftovers.length} data object(s) left, unlisted`,
        before,
        after,
        outcome,
      });
      expect(outcome.signal).toBe('SIGKILL');
      expectNothingLost(before, after);
      expect(after.committed).toEqual(before.committed);
      expect(after.leftovers.length).toBeGreaterThan(0);
    } finally {
      await proxy.close();
    }
  });

  it('SIGKILL during rotation: the new backup is committed, the old one gone or whole', async () => {
    const proxy = await startHttpFaultProxy({ upstream: world().minioEndpoint });
    try {
      // Let rotation's first delete (the old manifest) through, hold the second (its data).
      let deletes = 0;
      const secondDelete = (request: SeenRequest) => isDelete(request) && ++deletes === 2;
      proxy.addRule({ match: secondDelete, action: { kind: 'hold' }, times: 1 });
      const policy = await rowPolicy(world(), { endpoint: proxy.url });
      const before = await readCatalog(policy.bucket, policy.prefix);
      const run = startFaultRun(policy, { line: 'daily', at: SAME_SLOT_AT }, SCRATCH_RUN_ENV);
      await waitUntil('rotation holding a delete', async () => deletes >= 2, {
        timeoutMs: 120_000,
        intervalMs: 25,
      });
      run.child.kill('SIGKILL');
      const outcome = await run.outcome;
      const after = await readCatalog(policy.bucket, policy.prefix);
      recordFileRow({
        fault: 'runner SIGKILL, during rotation',
        run: `killed after commit; ${after.leftovers.length} pruned object(s) left, unlisted`,
        before,
        after,
        outcome,
      });
      expect(outcome.signal).toBe('SIGKILL');
      // The seed (SEED_AT's daily, the same slot) may be pruned: the new backup replaced it.
      expectNothingLost(before, after, before.committed);
      expect(after.committed).toHaveLength(1);
      expect(after.committed[0]).not.toEqual(before.committed[0]);
    } finally {
      await proxy.close();
    }
  });
}
