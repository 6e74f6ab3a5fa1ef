/**
 * What every row of the fault matrix shares, started once: toxiproxy, a scratch PostgreSQL
 * primary and replica of its own on 127.0.36.x (destructive rows kill, promote and fill
 * them; the shared environment's servers are never touched), a bucket of its own on the
 * environment's MinIO, and one backup the runner really took there, which each row copies
 * under its own prefix as "the backup committed before the fault".
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { expect } from 'vitest';
import type { RunOutcome, StartedRun } from '../harness/pgbackup-run.js';
import { startToxiproxy, type ToxiProxy, type ToxiproxyServer } from '../harness/toxiproxy.js';
import { requireEnv, uniqueSuffix } from '../harness/variables.js';
import { hostOf, type ScratchPair, startScratchPair } from '../integration/logical/scratch-pair.js';
import {
  type CatalogState,
  copyPrefix,
  createBucket,
  deleteBucket,
  readCatalog,
} from './fault-catalog.js';
import {
  type FaultPolicy,
  type FaultPolicyInput,
  startFaultRun,
  writeFaultPolicy,
} from './fault-policy.js';
import { type FaultRow, lastLineOf, recordRow } from './fault-table.js';

/** The scratch servers' addresses: the 127.0.36 block is the fault matrix's own. */
export const SCRATCH_HOSTS = { primary: '127.0.36.20', replica: '127.0.36.21' } as const;

/**
 * Runs against the scratch servers log in as the environment's superuser (the scratch
 * primary has no replication role: the superuser replicates).
 */
export const SCRATCH_RUN_ENV = {
  PGBACKUP_REPLICATION_USER: undefined,
  PGBACKUP_REPLICATION_PASSWORD: undefined,
} as const;

/** The day the seed backup was taken for, and the day rows' faulted runs are for. */
export const SEED_AT = '2026-03-01T01:30:00Z';
export const FAULT_AT = '2026-03-02T01:30:00Z';

/** The shared pieces; valid once {@link startFaultWorld} resolved. */
export interface FaultWorld {
  readonly toxiproxy: ToxiproxyServer;
  readonly pair: ScratchPair;
  readonly bucket: string;
  readonly minioEndpoint: string;
  /** The seed policy: one committed daily backup (for SEED_AT) under its prefix. */
  readonly seed: FaultPolicy;
  stop(): Promise<void>;
}

/** Starts the shared pieces and takes the seed backup. */
export async function startFaultWorld(): Promise<FaultWorld> {
  const toxiproxy = await startToxiproxy();
  const bucket = `pgbackup-faults-${uniqueSuffix()}`;
  let pair: ScratchPair | undefined;
  try {
    pair = await startScratchPair(SCRATCH_HOSTS);
    await createBucket(bucket);
    const minioEndpoint = requireEnv('PGBACKUP_S3_ENDPOINT');
    const seed = await writeFaultPolicy({
      hosts: [hostOf(pair.primary)],
      bucket,
      endpoint: minioEndpoint,
    });
    const seeded = await startFaultRun(seed, { line: 'daily', at: SEED_AT }, SCRATCH_RUN_ENV)
      .outcome;
    if (seeded.code !== 0) throw new Error(`the seed backup failed:\n${seeded.stderr}`);
    const started = pair;
    return {
      toxiproxy,
      pair: started,
      bucket,
      minioEndpoint,
      seed,
      stop: async () => {
        await started.stop();
        await toxiproxy.stop();
        await deleteBucket(bucket);
      },
    };
  } catch (error) {
    await pair?.stop();
    await toxiproxy.stop();
    await deleteBucket(bucket).catch(() => undefined);
    throw error;
  }
}

/**
 * A row's policy against the scratch primary, with the seed backup copied under its prefix;
 * `endpoint` is MinIO's unless the row puts a fault proxy in front of it.
 */
export async function rowPolicy(
  world: FaultWorld,
  options: Partial<Omit<FaultPolicyInput, 'prefix'>> = {},
): Promise<FaultPolicy> {
  const bucket = options.bucket ?? world.bucket;
  const policy = await writeFaultPolicy({
    hosts: [hostOf(world.pair.primary)],
    bucket,
    endpoint: world.minioEndpoint,
    ...options,
  });
  await copyPrefix(
    { bucket: world.bucket, prefix: `${world.seed.prefix}/` },
    { bucket, prefix: `${policy.prefix}/` },
  );
  return policy;
}

/** Waits (bounded) until a run has a multipart upload under the policy's prefix. */
export async function waitForUpload(policy: FaultPolicy, run: StartedRun): Promise<void> {
  const deadlineMs = Date.now() + 60_000;
  while (Date.now() < deadlineMs) {
    if (run.child.exitCode !== null) throw new Error('the run ended before its upload started');
    if ((await readCatalog(policy.bucket, policy.prefix)).uploads > 0) return;
    await sleep(25);
  }
  throw new Error(`no upload under ${policy.prefix} within 60 s`);
}

/** How a run ended, for the table: `0`, `1`, `SIGKILL`. */
export function exitOf(outcome: RunOutcome): string {
  return outcome.signal ?? String(outcome.code);
}

/** A file-mode row: no Backup object and no alert pipeline, the exit code is the status. */
export interface FileRowInput {
  readonly fault: string;
  readonly run: string;
  readonly before: CatalogState;
  readonly after: CatalogState;
  readonly outcome: RunOutcome;
}

/** Records a file-mode row; its message is the CLI's last line (stdout when it succeeded). */
export function recordFileRow(input: FileRowInput): FaultRow {
  const { outcome } = input;
  const message =
    outcome.signal !== null
      ? `(killed: no output)`
      : lastLineOf(outcome.code === 0 ? outcome.stdout : outcome.stderr);
  const row: FaultRow = {
    fault: input.fault,
    run: input.run,
    committedBefore: input.before.committed.length,
    committedAfter: input.after.committed.length,
    partialListed: input.after.broken.length,
    exit: exitOf(outcome),
    phase: '-',
    message,
    alert: '-',
  };
  recordRow(row);
  return row;
}

/**
 * "Status says what happened" in file mode: exit 0 exactly when a new backup was committed
 * (or the run said why it skipped), and a failure's message matches `failure`.
 */
export function expectExitTellsTheTruth(
  input: Pick<FileRowInput, 'before' | 'after' | 'outcome'>,
  /** What a failure's message must say; `undefined` only for a row with a filed finding. */
  failure: RegExp | undefined,
): void {
  const { outcome, before, after } = input;
  const added = after.committed.filter((key) => !before.committed.includes(key));
  if (outcome.code === 0) {
    expect(outcome.stdout).toMatch(/^committed |^skipped /m);
    if (outcome.stdout.startsWith('committed')) expect(added).toHaveLength(1);
  } else {
    expect(added, 'a failed run committed a backup').toEqual([]);
    expect(outcome.stderr).not.toBe('');
    if (failure !== undefined) expect(outcome.stderr).toMatch(failure);
  }
}

/**
 * A toxiproxy proxy in front of MinIO whose uploads crawl at `rateKBps` (a `bandwidth`
 * toxic named `slow`): a backup then streams for seconds, long enough for a row's fault to land
 * in the middle of it.
 */
export async function slowS3Proxy(world: FaultWorld, rateKBps: number): Promise<ToxiProxy> {
  const proxy = await world.toxiproxy.createProxy(
    `s3-slow-${uniqueSuffix()}`,
    new URL(world.minioEndpoint).host,
  );
  await proxy.addToxic({
    name: 'slow',
    type: 'bandwidth',
    stream: 'upstream',
    attributes: { rate: rateKBps },
  });
  return proxy;
}
