/**
 * WAL retention applied to the bucket: the anchor and the deletions of
 * retention/wal-prune, from the policy's committed binary backups and its WAL. `pgbackup
 * wal-prune` runs it once; the receiver runs it periodically.
 */
import { type BackupPolicy, parseWindowSeconds } from '../api/index.js';
import { DEFAULT_WAL_SEGMENT_SIZE, parseLsn } from '../retention/wal-names.js';
import {
  planWalPrune,
  type WalAnchorCandidate,
  type WalPrunePlan,
} from '../retention/wal-prune.js';
import {
  type ArtifactStore,
  type BackupManifest,
  policyKeyPrefix,
  type WalStore,
} from '../storage/index.js';
import { readBucketWal } from './bucket-wal.js';

/** What WAL retention needs of a policy. */
export interface WalPrunePolicy {
  /** `spec.storage.s3.prefix`. */
  readonly prefix: string;
  readonly namespace: string;
  readonly policy: string;
  /** `spec.continuous.window`. */
  readonly windowMs: number;
}

/** The retention settings of a policy resource. */
export function walPrunePolicyOf(policy: BackupPolicy, namespace: string): WalPrunePolicy {
  const window = policy.spec.continuous.window;
  const seconds = parseWindowSeconds(window);
  if (seconds === undefined) {
    throw new Error(`spec.continuous.window "${window}" is not a window such as 7d or 36h`);
  }
  return {
    prefix: policy.spec.storage?.s3.prefix ?? '',
    namespace,
    policy: policy.metadata.name ?? 'unnamed',
    windowMs: seconds * 1000,
  };
}

/** What one pass did (or, dry, would do). */
export interface WalPruneReport extends WalPrunePlan {
  /** The size of the objects deleted. */
  readonly deletedBytes: number;
  readonly dryRun: boolean;
}

/**
 * The instant a backup stands for: its run's nominal instant (`--at`, or the clock) plus its
 * duration, so that a backup chosen as anchor was complete when the window begins.
 */
function anchorCandidateOf(key: string, manifest: BackupManifest): WalAnchorCandidate | undefined {
  const startLsn = parseLsn(manifest.server.startLsn ?? '');
  const runAtMs = Date.parse(manifest.runAt);
  const durationMs = Date.parse(manifest.completedAt) - Date.parse(manifest.startedAt);
  if (startLsn === undefined || Number.isNaN(runAtMs)) return undefined;
  return {
    key,
    startLsn,
    stopLsn: parseLsn(manifest.server.stopLsn ?? ''),
    startTimeline: manifest.server.startTimeline,
    instantMs: runAtMs + (Number.isNaN(durationMs) ? 0 : Math.max(0, durationMs)),
  };
}

/** The policy's committed binary backups as anchor candidates. */
export async function walAnchorCandidates(
  backups: ArtifactStore,
  policy: Pick<WalPrunePolicy, 'prefix' | 'namespace' | 'policy'>,
): Promise<WalAnchorCandidate[]> {
  const entries = await backups.listBackups(policyKeyPrefix({ ...policy, type: 'binary' }));
  return entries.flatMap(({ key, manifest }) => {
    const candidate = anchorCandidateOf(key, manifest);
    return candidate === undefined ? [] : [candidate];
  });
}

/** What {@link pruneWal} needs. */
export interface PruneWalInput {
  readonly walStore: WalStore;
  /** The policy's bucket, for its binary backups' manifests. */
  readonly backups: ArtifactStore;
  readonly policy: WalPrunePolicy;
  readonly nowMs: number;
  /** Decide and report, delete nothing. */
  readonly dryRun?: boolean;
  readonly segmentSize?: number;
}

/**
 * Deletes the WAL the window no longer needs: everything before the segment of the newest
 * committed binary backup older than the window; nothing while there is no such backup.
 *
 * @throws StorageError when the bucket cannot be read or the objects deleted
 */
export async function pruneWal(input: PruneWalInput): Promise<WalPruneReport> {
  const { walStore, policy } = input;
  const segmentSize = input.segmentSize ?? DEFAULT_WAL_SEGMENT_SIZE;
  const dryRun = input.dryRun ?? false;
  // Backups first: WAL listed after them cannot be older than what they were judged against.
  const candidates = await walAnchorCandidates(input.backups, policy);
  const wal = await readBucketWal(walStore, segmentSize);
  const plan = planWalPrune({
    names: wal.objects.map(({ name }) => name),
    histories: wal.histories,
    backups: candidates,
    windowMs: policy.windowMs,
    nowMs: input.nowMs,
    segmentSize,
  });
  const deleted = new Set(plan.deletions);
  const deletedBytes = wal.objects
    .filter(({ name }) => deleted.has(name))
    .reduce((sum, { sizeBytes }) => sum + sizeBytes, 0);
  if (!dryRun && plan.deletions.length > 0) await walStore.delete(plan.deletions);
  return { ...plan, deletedBytes, dryRun };
}
