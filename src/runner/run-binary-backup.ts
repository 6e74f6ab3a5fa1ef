/**
 * A binary backup run (DESIGN.md §5, runner): period and slot, lock, discovery, stream to
 * storage, commit, rotate. Every outside system comes in through the input; the clock too.
 */
import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import type { Logger } from 'pino';
import type { BackupPolicySpec, LineName } from '../api/index.js';
import {
  ARCHIVE_NAMES,
  acquireAdvisoryLock,
  advisoryLockKeyOf,
  type Credentials,
  createReplicationSlot,
  discoverPrimary,
  dropReplicationSlot,
  type Endpoint,
  formatEndpoint,
  listUserTablespaces,
  locatePgTool,
  type Primary,
  replicationSlotNameOf,
  toolVersion,
  totalDatabaseSizeBytes,
} from '../postgres/index.js';
import {
  type RetentionLine,
  type RunDecision,
  resolveRun,
  retentionPlanOf,
} from '../retention/index.js';
import {
  type ArtifactStore,
  type BackupManifest,
  backupKeyPrefix,
  partSizeFor,
  policyKeyPrefix,
} from '../storage/index.js';
import { RunError } from './errors.js';
import { lineBackupOf, rotateStore } from './rotate.js';
import { streamBaseBackup } from './stream-backup.js';

/** The local copy of daily backups. */
export interface LocalCopy {
  readonly store: ArtifactStore;
  readonly keep: number;
}

/** Everything a binary run needs, resolved by the CLI (from a file or the cluster). */
export interface BinaryRunInput {
  readonly namespace: string;
  readonly policy: string;
  readonly spec: BackupPolicySpec;
  /** Omitted: an on-demand backup, which belongs to no line and is never pruned. */
  readonly line: LineName | undefined;
  /** The instant the period is decided for; omitted, the clock after the lock is acquired. */
  readonly atMs?: number | undefined;
  readonly endpoints: readonly Endpoint[];
  /** How the endpoints were found, for messages. */
  readonly selection: string;
  readonly credentials: Credentials;
  readonly replicationCredentials: Credentials;
  readonly remote: ArtifactStore;
  /** Present when the policy keeps a local copy and this run is a daily one. */
  readonly local?: LocalCopy | undefined;
  /** Root of the PostgreSQL tools, `<root>/<major>/bin`. */
  readonly pgRoot?: string | undefined;
  readonly logger: Logger;
  readonly clock: () => number;
}

/** A run that did nothing, and why. */
export interface RunSkippedResult {
  readonly outcome: 'skipped';
  readonly reason: string;
  readonly message: string;
}

/** A committed backup. */
export interface RunCompletedResult {
  readonly outcome: 'completed';
  readonly key: string;
  readonly localKey: string | undefined;
  readonly manifest: BackupManifest;
  readonly manifestSha256: string;
  readonly pruned: readonly string[];
}

/** What a run did. */
export type BinaryRunResult = RunSkippedResult | RunCompletedResult;

const DAY_MS = 24 * 60 * 60 * 1000;

/** Where a backup goes: its period and slot, or none for an on-demand backup. */
interface Placement {
  readonly period: number;
  readonly slot: number;
  readonly label: string;
  readonly onDemand: boolean;
}

const ON_DEMAND: Placement = { period: 0, slot: 0, label: 'on-demand', onDemand: true };

function retentionLineOf(input: BinaryRunInput): RetentionLine | undefined {
  if (input.line === undefined) return undefined;
  const line = retentionPlanOf(input.spec).binary.find((entry) => entry.line === input.line);
  if (line === undefined) {
    throw new RunError(
      `the ${input.line} line is not enabled for binary backups in BackupPolicy ${input.namespace}/${input.policy}: add it to spec.binary.lines, or run a line the policy lists`,
    );
  }
  return line;
}

async function decidePeriod(input: BinaryRunInput, line: RetentionLine): Promise<RunDecision> {
  const prefix = policyKeyPrefix(locationOf(input));
  const catalog = await input.remote.listBackups(prefix);
  const takenPeriods = catalog.flatMap((entry) => {
    const backup = lineBackupOf(entry);
    return backup?.line === line.line ? [backup.period] : [];
  });
  const plan = retentionPlanOf(input.spec);
  return resolveRun({
    schedule: plan.schedule,
    line,
    startedAtMs: input.atMs ?? input.clock(),
    takenPeriods,
  });
}

function locationOf(input: BinaryRunInput) {
  return {
    prefix: input.spec.storage?.s3.prefix ?? '',
    namespace: input.namespace,
    policy: input.policy,
    type: 'binary' as const,
  };
}

/** Removes what a dead run of this policy left: its replication slot and unfinished uploads. */
async function cleanUpDeadRuns(input: BinaryRunInput, client: pg.Client, slot: string) {
  if (await dropReplicationSlot(client, slot)) {
    input.logger.warn({ slot }, 'dropped the replication slot a previous run left behind');
  }
  const prefix = policyKeyPrefix(locationOf(input));
  const orphanBeforeMs = input.clock() - DAY_MS;
  const stores = [input.remote, ...(input.local === undefined ? [] : [input.local.store])];
  for (const store of stores) {
    const report = await store.cleanUp(prefix, orphanBeforeMs);
    if (report.abortedUploads.length + report.deletedObjects.length > 0) {
      input.logger.warn(
        { store: store.description, ...report },
        'removed what a previous run left behind',
      );
    }
  }
}

async function checkTablespaces(client: pg.Client, primary: Primary): Promise<void> {
  const tablespaces = await listUserTablespaces(client);
  if (tablespaces.length > 0) {
    const names = tablespaces.map((space) => `${space.name} (${space.location})`).join(', ');
    throw new RunError(
      `the primary ${formatEndpoint(primary.endpoint)} has tablespaces besides pg_default: ${names}. A streamed tar backup holds one tablespace only; move those tables to pg_default, or back this server up another way`,
    );
  }
}

interface Prepared {
  readonly binary: string;
  readonly partSizeBytes: number;
  readonly tools: Record<string, string>;
}

async function prepare(input: BinaryRunInput, primary: Primary): Promise<Prepared> {
  await checkTablespaces(primary.client, primary);
  const binary = await locatePgTool({
    tool: 'pg_basebackup',
    major: primary.major,
    ...(input.pgRoot === undefined ? {} : { root: input.pgRoot }),
  });
  const sizeBytes = await totalDatabaseSizeBytes(primary.client);
  return {
    binary,
    partSizeBytes: partSizeFor(sizeBytes),
    tools: { pg_basebackup: await toolVersion(binary), pgbackup: 'pgbackup-operator' },
  };
}

interface Taken {
  readonly decision: Placement;
  readonly primary: Primary;
  readonly prepared: Prepared;
  readonly startedAtMs: number;
}

async function takeBackup(input: BinaryRunInput, taken: Taken): Promise<RunCompletedResult> {
  const { decision, primary, prepared, startedAtMs } = taken;
  const id = randomBytes(4).toString('hex');
  const runAtMs = input.atMs ?? startedAtMs;
  const location = {
    ...locationOf(input),
    line: input.line ?? 'on-demand',
    slot: decision.onDemand ? undefined : decision.slot,
    startedAtMs: runAtMs,
    id,
  };
  const key = backupKeyPrefix(location);
  const compression = input.spec.binary.compression;
  const archive = ARCHIVE_NAMES[compression];
  const targets = [
    { store: input.remote, key: `${key}${archive}` },
    ...(input.local === undefined ? [] : [{ store: input.local.store, key: `${key}${archive}` }]),
  ];
  input.logger.info(
    { primary: formatEndpoint(primary.endpoint), key, partSizeBytes: prepared.partSizeBytes },
    'streaming pg_basebackup',
  );
  const streamed = await streamBaseBackup({
    backup: {
      binary: prepared.binary,
      endpoint: primary.endpoint,
      credentials: input.replicationCredentials,
      compression,
      checkpoint: input.spec.binary.checkpoint,
      label: `pgbackup ${input.namespace}/${input.policy} ${input.line ?? 'on-demand'} ${id}`,
    },
    targets,
    partSizeBytes: prepared.partSizeBytes,
  });
  const completedAtMs = input.clock();
  const manifest: BackupManifest = {
    formatVersion: 1,
    id,
    namespace: input.namespace,
    policy: input.policy,
    type: 'binary',
    line: input.line ?? '',
    period: decision.period,
    slot: decision.slot,
    slotLabel: decision.label,
    runAt: new Date(runAtMs).toISOString(),
    startedAt: new Date(startedAtMs).toISOString(),
    completedAt: new Date(completedAtMs).toISOString(),
    committedAt: new Date(completedAtMs).toISOString(),
    server: {
      host: formatEndpoint(primary.endpoint),
      version: primary.serverVersion,
      versionNumber: primary.serverVersionNumber,
      ...(streamed.startLsn === undefined ? {} : { startLsn: streamed.startLsn }),
      ...(streamed.stopLsn === undefined ? {} : { stopLsn: streamed.stopLsn }),
    },
    compression,
    objects: [{ name: archive, ...streamed.digest }],
    tools: prepared.tools,
  };
  const manifestSha256 = await input.remote.commit(key, manifest);
  input.logger.info({ key, sizeBytes: streamed.digest.sizeBytes }, 'backup committed');
  if (input.local !== undefined) {
    await input.local.store.commit(key, manifest);
    input.logger.info({ key, store: input.local.store.description }, 'local copy committed');
  }
  return {
    outcome: 'completed',
    key,
    localKey: input.local === undefined ? undefined : key,
    manifest,
    manifestSha256,
    pruned: [],
  };
}

async function rotate(
  input: BinaryRunInput,
  line: RetentionLine,
  completed: RunCompletedResult,
): Promise<string[]> {
  const prefix = policyKeyPrefix(locationOf(input));
  const pruned = await rotateStore({
    store: input.remote,
    prefix,
    keep: line.keep,
    committedKey: completed.key,
    logger: input.logger,
  });
  if (input.local !== undefined) {
    pruned.push(
      ...(await rotateStore({
        store: input.local.store,
        prefix,
        keep: input.local.keep,
        committedKey: completed.key,
        logger: input.logger,
      })),
    );
  }
  return pruned;
}

async function placementOf(
  input: BinaryRunInput,
  line: RetentionLine | undefined,
): Promise<Placement | RunSkippedResult> {
  if (line === undefined) return ON_DEMAND;
  const decision = await decidePeriod(input, line);
  if (!decision.ok) {
    input.logger.info({ reason: decision.reason }, decision.message);
    return { outcome: 'skipped', reason: decision.reason, message: decision.message };
  }
  return { period: decision.period, slot: decision.slot, label: decision.label, onDemand: false };
}

async function runLocked(
  input: BinaryRunInput,
  line: RetentionLine | undefined,
  primary: Primary,
): Promise<BinaryRunResult> {
  const decision = await placementOf(input, line);
  if ('outcome' in decision) return decision;
  const slotName = replicationSlotNameOf(input.namespace, input.policy);
  await cleanUpDeadRuns(input, primary.client, slotName);
  const prepared = await prepare(input, primary);
  const startedAtMs = input.clock();
  await createReplicationSlot(primary.client, slotName);
  let completed: RunCompletedResult;
  try {
    completed = await takeBackup(input, { decision, primary, prepared, startedAtMs });
  } finally {
    // A failure here must not hide the run's own error; the next run drops a leftover slot.
    await dropReplicationSlot(primary.client, slotName).catch((error: unknown) =>
      input.logger.error(
        { err: error, slot: slotName },
        'could not drop the replication slot; the next run of this policy drops it',
      ),
    );
  }
  // Only now, with the new backup committed, may its slot's previous occupant go. An
  // on-demand backup fills no slot and replaces nothing.
  const pruned = line === undefined ? [] : await rotate(input, line, completed);
  return { ...completed, pruned };
}

/**
 * Checks the stores and finds the primary at once (they are independent). A store failure
 * wins over a discovery failure: it is reported first, as nothing can be stored anyway.
 */
async function checkStoresAndDiscover(input: BinaryRunInput): Promise<Primary> {
  const [discovery, ...checks] = await Promise.allSettled([
    discoverPrimary({
      endpoints: input.endpoints,
      credentials: input.credentials,
      selection: input.selection,
    }),
    input.remote.check(),
    input.local?.store.check(),
  ]);
  const failedCheck = checks.find((check) => check.status === 'rejected');
  if (failedCheck !== undefined) {
    if (discovery.status === 'fulfilled') await discovery.value.client.end().catch(() => undefined);
    throw failedCheck.reason;
  }
  if (discovery.status === 'rejected') throw discovery.reason;
  return discovery.value;
}

/**
 * Runs one binary backup of a line: checks the stores, finds the primary, waits for the
 * policy's lock, decides the period (or skips), takes and commits the backup, then rotates.
 *
 * @throws RunError, PostgresError or StorageError with a message a person can act on; nothing
 *   is deleted then.
 */
export async function runBinaryBackup(input: BinaryRunInput): Promise<BinaryRunResult> {
  const line = retentionLineOf(input);
  const primary = await checkStoresAndDiscover(input);
  input.logger.info(
    { primary: formatEndpoint(primary.endpoint), version: primary.serverVersion },
    'found the primary',
  );
  try {
    // Runs of this policy queue here; the lock goes with the session, however the run ends.
    await acquireAdvisoryLock(
      primary.client,
      advisoryLockKeyOf(input.namespace, input.policy, 'binary'),
    );
    return await runLocked(input, line, primary);
  } finally {
    await primary.client.end().catch(() => undefined);
  }
}
