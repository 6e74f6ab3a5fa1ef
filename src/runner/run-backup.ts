/**
 * The one path every run takes (DESIGN.md §5, runner): check the stores and find the server,
 * wait for the policy's lock, decide the period (or skip), clean up after dead runs, take the
 * backup, commit its manifest last, then rotate. A {@link BackupKind} says only what differs:
 * which server, and how its objects are written.
 */
import { randomBytes } from 'node:crypto';
import type { BackupType } from '../api/index.js';
import type { AgeRecipient } from '../encryption/index.js';
import {
  acquireAdvisoryLock,
  advisoryLockKeyOf,
  formatEndpoint,
  readServerClock,
  type ServerSession,
} from '../postgres/index.js';
import { DEFAULT_RUN_DEADLINE_SECONDS, deadRunCutoffMs } from '../render/run-lifetime.js';
import type { RetentionLine, RunAccepted } from '../retention/index.js';
import {
  type ArtifactStore,
  type BackupManifest,
  backupKeyPrefix,
  policyKeyPrefix,
} from '../storage/index.js';
import { RunError } from './errors.js';
import { ON_DEMAND_MANIFEST } from './on-demand.js';
import {
  admitTrigger,
  locationOf,
  type Placement,
  placementOf,
  retentionLineOf,
} from './placement.js';
import { rotateStore } from './rotate.js';
import type { RunCompletedResult, RunInput, RunResult } from './run-types.js';

/** The server a backup is taken from, with its open session (the run ends it). */
export interface BackupSource {
  readonly session: ServerSession;
  /** What the server is, for logs. */
  readonly role: 'primary' | 'replica';
  /** Something a person should know about the choice (a fallback), kept in the result. */
  readonly note?: string | undefined;
}

/** Where a kind writes a backup's objects. */
export interface BackupTarget {
  readonly id: string;
  /** The backup's key prefix, ending in `/`: objects go to `<key><name>`. */
  readonly key: string;
  /** Every store the objects go to (the bucket, and the local copy if any). */
  readonly stores: readonly ArtifactStore[];
  /** Aborted when the run lost its lock: the kind stops writing (and aborts its objects). */
  readonly signal?: AbortSignal | undefined;
  /** Present: every object is encrypted for these (see streamToStores). */
  readonly recipients?: readonly AgeRecipient[] | undefined;
}

/** What a kind wrote, as the manifest records it. */
export interface TakenBackup {
  readonly objects: BackupManifest['objects'];
  readonly compression: string;
  /** The level and workers asked for, when any. */
  readonly compressionSettings?: BackupManifest['compressionSettings'];
  readonly tools: Record<string, string>;
  readonly startLsn?: string | undefined;
  readonly stopLsn?: string | undefined;
  readonly startTimeline?: number | undefined;
}

/** What a type of backup adds to the shared run. */
export interface BackupKind {
  readonly type: BackupType;
  /** Finds and connects to the server to back up. */
  findSource(): Promise<BackupSource>;
  /** Holding the lock: removes what a dead run of this type left on the server. */
  cleanUpServer?(source: BackupSource): Promise<void>;
  /** Writes the backup's objects; a failure must leave no object behind. */
  take(source: BackupSource, target: BackupTarget): Promise<TakenBackup>;
}

function storesOf(input: RunInput): ArtifactStore[] {
  return [input.remote, ...(input.local === undefined ? [] : [input.local.store])];
}

/** Removes what dead runs of this policy left: server state and unfinished uploads. */
async function cleanUpDeadRuns(input: RunInput, kind: BackupKind, source: BackupSource) {
  await kind.cleanUpServer?.(source);
  const prefix = policyKeyPrefix(locationOf(input, kind.type));
  // Only what is older than any live run can be: a run that lost the lock may still write.
  const deadBeforeMs = deadRunCutoffMs(
    input.clock(),
    input.runDeadlineSeconds ?? DEFAULT_RUN_DEADLINE_SECONDS,
  );
  for (const store of storesOf(input)) {
    const report = await store.cleanUp(prefix, deadBeforeMs);
    if (report.abortedUploads.length + report.deletedObjects.length > 0) {
      input.logger.warn(
        { store: store.description, ...report },
        'removed what a previous run left behind',
      );
    }
  }
}

interface Taking {
  readonly kind: BackupKind;
  /** Undefined for an on-demand backup, which fills no slot. */
  readonly placement: Placement | undefined;
  readonly source: BackupSource;
}

/** A backup whose objects are written, about to be committed. */
interface Written {
  readonly target: BackupTarget;
  readonly times: {
    runAtMs: number;
    startedAtMs: number;
    completedAtMs: number;
    /** The server's clock when the backup began. */
    serverStartedAt: string;
  };
  readonly taken: TakenBackup;
}

function manifestOf(input: RunInput, taking: Taking, written: Written): BackupManifest {
  const { target, times, taken } = written;
  const { session } = taking.source;
  const { placement } = taking;
  return {
    formatVersion: 1,
    id: target.id,
    namespace: input.namespace,
    policy: input.policy,
    type: taking.kind.type,
    ...(placement === undefined
      ? ON_DEMAND_MANIFEST
      : {
          line: placement.line.line,
          period: placement.period,
          slot: placement.slot,
          slotLabel: placement.label,
        }),
    runAt: new Date(times.runAtMs).toISOString(),
    startedAt: new Date(times.startedAtMs).toISOString(),
    completedAt: new Date(times.completedAtMs).toISOString(),
    committedAt: new Date(times.completedAtMs).toISOString(),
    server: {
      host: formatEndpoint(session.endpoint),
      version: session.serverVersion,
      versionNumber: session.serverVersionNumber,
      ...(taken.startLsn === undefined ? {} : { startLsn: taken.startLsn }),
      ...(taken.stopLsn === undefined ? {} : { stopLsn: taken.stopLsn }),
      ...(taken.startTimeline === undefined ? {} : { startTimeline: taken.startTimeline }),
      startedAt: times.serverStartedAt,
    },
    compression: taken.compression,
    ...(taken.compressionSettings === undefined
      ? {}
      : { compressionSettings: taken.compressionSettings }),
    objects: taken.objects,
    ...(input.encryption === undefined
      ? {}
      : { encryption: { format: 'age', recipients: [...input.encryption.fingerprints] } }),
    tools: taken.tools,
  };
}

/** Takes the backup and commits it: the manifest last, to the bucket, then the local copy. */
async function takeAndCommit(input: RunInput, taking: Taking): Promise<RunCompletedResult> {
  const startedAtMs = input.clock();
  // The one clock that orders backups taken by runners on different nodes (compareByClock).
  const serverStartedAt = await readServerClock(taking.source.session);
  const runAtMs = input.triggeredAtMs;
  const id = randomBytes(4).toString('hex');
  const key = backupKeyPrefix({
    ...locationOf(input, taking.kind.type),
    line: taking.placement?.line.line ?? 'on-demand',
    slot: taking.placement?.slot,
    startedAtMs: runAtMs,
    id,
  });
  const target = {
    id,
    key,
    stores: storesOf(input),
    signal: input.fence?.signal,
    recipients: input.encryption?.recipients,
  };
  if (input.encryption !== undefined) {
    // Fingerprints only: enough to tell which identity will read the backup.
    input.logger.info(
      { recipients: input.encryption.fingerprints },
      'encrypting every object with age for these recipients',
    );
  }
  const taken = await taking.kind.take(taking.source, target);
  const times = { runAtMs, startedAtMs, completedAtMs: input.clock(), serverStartedAt };
  const manifest = manifestOf(input, taking, { target, times, taken });
  // Fencing: a run that lost the Lease may have been overtaken by one that cleans up and
  // rotates as if this one were dead, so it must not make its backup exist.
  await input.fence?.assertHeld();
  const manifestSha256 = await input.remote.commit(key, manifest);
  const sizeBytes = taken.objects.reduce((sum, object) => sum + object.sizeBytes, 0);
  input.logger.info({ key, sizeBytes }, 'backup committed');
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
    note: taking.source.note,
  };
}

/** Prunes what the commit expired, in the bucket and in the local copy. */
async function rotate(input: RunInput, type: BackupType, line: RetentionLine, key: string) {
  const prefix = policyKeyPrefix(locationOf(input, type));
  const rotations = [
    { store: input.remote, keep: line.keep },
    ...(input.local === undefined ? [] : [input.local]),
  ];
  const pruned: string[] = [];
  for (const { store, keep } of rotations) {
    pruned.push(
      ...(await rotateStore({ store, prefix, keep, committedKey: key, logger: input.logger })),
    );
  }
  return pruned;
}

/** A line's run admitted by its trigger: the line and the period it belongs to. */
interface Admitted {
  readonly line: RetentionLine;
  readonly accepted: RunAccepted;
}

async function runLocked(
  input: RunInput,
  kind: BackupKind,
  admitted: Admitted | undefined,
  source: BackupSource,
): Promise<RunResult> {
  // An on-demand run (no line) has no placement, and nothing to skip.
  const placement =
    admitted === undefined
      ? undefined
      : await placementOf(input, kind.type, admitted.line, admitted.accepted);
  if (placement !== undefined && 'outcome' in placement) return placement;
  await cleanUpDeadRuns(input, kind, source);
  const completed = await takeAndCommit(input, { kind, placement, source });
  // Only now, with the new backup committed, may its slot's previous occupant go. An
  // on-demand backup fills no slot and replaces nothing.
  const pruned =
    placement === undefined ? [] : await rotate(input, kind.type, placement.line, completed.key);
  return { ...completed, pruned };
}

/**
 * Checks the stores and finds the server at once (they are independent). A store failure
 * wins over a discovery failure: it is reported first, as nothing can be stored anyway.
 */
async function checkStoresAndFindSource(input: RunInput, kind: BackupKind) {
  const [found, ...checks] = await Promise.allSettled([
    kind.findSource(),
    ...storesOf(input).map((store) => store.check()),
  ]);
  const failedCheck = checks.find((check) => check.status === 'rejected');
  if (failedCheck !== undefined) {
    if (found.status === 'fulfilled') await found.value.session.client.end().catch(() => undefined);
    throw failedCheck.reason;
  }
  if (found.status === 'rejected') throw found.reason;
  return found.value;
}

/**
 * Runs one backup: checks the stores, finds the server, waits for the policy's lock on it,
 * decides the period (or skips), takes and commits the backup, then rotates.
 *
 * @throws RunError, PostgresError or StorageError with a message a person can act on; nothing
 *   is deleted then.
 */
export async function runBackup(input: RunInput, kind: BackupKind): Promise<RunResult> {
  // Never a plain backup of a policy that asks for encryption, whoever started the run.
  if (input.spec.storage?.encryption !== undefined && input.encryption === undefined) {
    throw new RunError(
      `BackupPolicy ${input.namespace}/${input.policy} sets spec.storage.encryption, but its recipients were not resolved for this run; nothing was written`,
    );
  }
  const line = retentionLineOf(input, kind.type);
  // From the trigger alone, before any I/O: a day the line skips touches nothing.
  const accepted = line === undefined ? undefined : admitTrigger(input, line);
  if (accepted !== undefined && 'outcome' in accepted) {
    input.logger.info({ reason: accepted.reason }, accepted.message);
    return accepted;
  }
  const admitted = line === undefined || accepted === undefined ? undefined : { line, accepted };
  const source = await checkStoresAndFindSource(input, kind);
  const { session } = source;
  input.logger.info(
    { server: formatEndpoint(session.endpoint), version: session.serverVersion },
    `found the ${source.role}`,
  );
  try {
    // In a cluster the Lease (with fencing) is the one lock. Outside one, runs of this policy
    // and type queue here; the lock goes with the session, however the run ends. It excludes
    // only runs that chose the same server (always the primary for binary runs).
    if (input.fence === undefined) {
      await acquireAdvisoryLock(
        session,
        advisoryLockKeyOf(input.namespace, input.policy, kind.type),
      );
    }
    return await runLocked(input, kind, admitted, source);
  } finally {
    await session.client.end().catch(() => undefined);
  }
}
