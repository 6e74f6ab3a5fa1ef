/**
 * The object store's faults: error answers (through the HTTP fault proxy, since toxiproxy
 * cannot answer with a status), stalls and resets (toxiproxy), and the bucket deleted while a
 * run writes to it. Each row's run is for FAULT_AT, beside the seed backup (another slot), so
 * nothing may disappear.
 */
import { expect, it } from 'vitest';
import {
  type FaultAction,
  s3ErrorAnswer,
  startHttpFaultProxy,
} from '../harness/http-fault-proxy.js';
import type { RunOutcome, StartedRun } from '../harness/pgbackup-run.js';
import type { ToxiProxy } from '../harness/toxiproxy.js';
import { uniqueSuffix } from '../harness/variables.js';
import { createBucket, deleteBucket, expectNothingLost, readCatalog } from './fault-catalog.js';
import type { FaultPolicy } from './fault-policy.js';
import { startFaultRun } from './fault-policy.js';
import {
  expectExitTellsTheTruth,
  FAULT_AT,
  type FaultWorld,
  recordFileRow,
  rowPolicy,
  SCRATCH_RUN_ENV,
  waitForUpload,
} from './fault-world.js';

/** An UploadPart request: `PUT …?partNumber=N&uploadId=…`. */
function isUploadPart(request: { method: string; url: string }): boolean {
  return request.method === 'PUT' && request.url.includes('partNumber=');
}

function what(outcome: RunOutcome, committed: string, failed: string): string {
  return outcome.code === 0 ? committed : failed;
}

/** Runs a row's faulted run through an HTTP fault proxy answering upload parts with `action`. */
async function errorAnswerRow(
  world: FaultWorld,
  fault: string,
  action: FaultAction,
  times: number,
): Promise<{ policy: FaultPolicy; outcome: RunOutcome; answered: number }> {
  const proxy = await startHttpFaultProxy({ upstream: world.minioEndpoint });
  try {
    proxy.addRule({ match: isUploadPart, action, times });
    const policy = await rowPolicy(world, { endpoint: proxy.url });
    const before = await readCatalog(policy.bucket, policy.prefix);
    const outcome = await startFaultRun(policy, { line: 'daily', at: FAULT_AT }, SCRATCH_RUN_ENV)
      .outcome;
    const after = await readCatalog(policy.bucket, policy.prefix);
    const answered = proxy.handled.filter(
      (request) => action.kind === 'answer' && request.outcome === action.status,
    ).length;
    const run = what(
      outcome,
      `retried ${answered} answers, committed`,
      `failed after ${answered} answers; ${after.uploads === 0 ? 'upload aborted' : 'upload left'}`,
    );
    recordFileRow({ fault, run, before, after, outcome });
    expectNothingLost(before, after);
    // The message is not asserted: see the S3_BLAME finding below.
    expectExitTellsTheTruth({ before, after, outcome }, undefined);
    return { policy, outcome, answered };
  } finally {
    await proxy.close();
  }
}

/** Runs a row's faulted run through a toxiproxy TCP proxy; `inject` acts once it uploads. */
async function toxicRow(
  world: FaultWorld,
  fault: string,
  inject: (proxy: ToxiProxy, run: StartedRun) => Promise<void>,
): Promise<{ outcome: RunOutcome }> {
  const proxy = await world.toxiproxy.createProxy(
    `s3-${uniqueSuffix()}`,
    new URL(world.minioEndpoint).host,
  );
  const policy = await rowPolicy(world, { endpoint: `http://${proxy.listen}` });
  const before = await readCatalog(policy.bucket, policy.prefix);
  const run = startFaultRun(policy, { line: 'daily', at: FAULT_AT }, SCRATCH_RUN_ENV);
  await waitForUpload(policy, run);
  await inject(proxy, run);
  const outcome = await run.outcome;
  const after = await readCatalog(policy.bucket, policy.prefix);
  const result = what(outcome, 'retried, committed', 'failed before commit');
  recordFileRow({ fault, run: result, before, after, outcome });
  expectNothingLost(before, after);
  // The message is not asserted: see the S3_BLAME finding below.
  expectExitTellsTheTruth({ before, after, outcome }, undefined);
  return { outcome };
}

/**
 * A finding the rows cannot assert without flaking: when S3 fails mid-upload (500s, a stalled
 * or reset connection), the run fails and commits nothing, but in about half the runs its
 * message blames pg_basebackup ("could not write to file "-": Connection reset by peer", or
 * "failed (signal SIGTERM)"), which failed only because the runner stopped reading, instead
 * of naming the S3 error (runner/stream-backup.ts picks the tool's failure unless the
 * pipeline's own error is a StorageError, and which error reaches it first is a race).
 */
const S3_BLAME =
  'FINDING: an S3 failure mid-upload is sometimes reported as a pg_basebackup failure; the message must name the S3 error';

/** Registers the object store's rows; `world` is read when they run. */
export function registerS3Rows(world: () => FaultWorld): void {
  it.todo(S3_BLAME);

  it('S3 answers 500 to every part: the run fails, the previous backup stays', async () => {
    await errorAnswerRow(
      world(),
      'S3 500 on every part',
      s3ErrorAnswer(500, 'InternalError'),
      Number.POSITIVE_INFINITY,
    );
  });

  it('S3 answers 503 SlowDown twice: the SDK retries and the backup commits', async () => {
    await errorAnswerRow(world(), 'S3 503 SlowDown x2', s3ErrorAnswer(503, 'SlowDown', 1), 2);
  });

  it('S3 stalls and drops the connection after 2 s, every time: the run fails and commits nothing', async () => {
    await toxicRow(world(), 'S3 stall, closed after 2 s', async (proxy) => {
      await proxy.addToxic({
        name: 'stall',
        type: 'timeout',
        stream: 'upstream',
        attributes: { timeout: 2_000 },
      });
    });
  });

  it('S3 connection reset mid-upload (1 s of resets): retried or failed cleanly', async () => {
    await toxicRow(world(), 'S3 reset mid-upload (1 s)', async (proxy) => {
      await proxy.addToxic({
        name: 'reset',
        type: 'reset_peer',
        stream: 'upstream',
        attributes: { timeout: 0 },
      });
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      await proxy.removeToxic('reset');
    });
  });

  it('the bucket deleted mid-run: the run fails naming it, and commits nothing', async () => {
    const bucket = `pgbackup-faults-gone-${uniqueSuffix()}`;
    await createBucket(bucket);
    try {
      const policy = await rowPolicy(world(), { bucket });
      const before = await readCatalog(bucket, policy.prefix);
      const run = startFaultRun(policy, { line: 'daily', at: FAULT_AT }, SCRATCH_RUN_ENV);
      await waitForUpload(policy, run);
      await deleteBucket(bucket);
      const outcome = await run.outcome;
      const after = await readCatalog(bucket, policy.prefix);
      recordFileRow({
        fault: 'bucket deleted mid-run',
        run: what(outcome, 'committed into a recreated bucket', 'failed before commit'),
        before,
        after,
        outcome,
      });
      // The fault itself removed the seed backup; the run must neither recreate the bucket
      // nor commit a backup into it.
      expectNothingLost({ ...before, committed: [] }, after);
      expectExitTellsTheTruth(
        { before, after, outcome },
        /NoSuchBucket|NoSuchUpload|bucket|upload/i,
      );
      if (outcome.code !== 0) expect(outcome.stderr).toContain(bucket);
    } finally {
      await deleteBucket(bucket);
    }
  });
}
