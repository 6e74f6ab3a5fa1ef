/**
 * WAL retention: which WAL objects may go. WAL is kept from the start of the anchor, the
 * newest committed binary backup older than the window, so every instant of the window can be
 * restored from the anchor (or a newer backup) plus the WAL after it. Older WAL is deleted only
 * once such an anchor is committed; without one nothing is deleted. History files stay for
 * ever (they are tiny, and recovery needs every one on the path). Binary backups carry their
 * own WAL, so deleting archived WAL never makes a retained backup unrestorable: it only limits
 * how far past such a backup a point-in-time restore can reach. Pure.
 */
import { assessWalContinuity, type TimelineStretch, timelinePathOf } from './wal-continuity.js';
import { parseWalFileName, segmentOf, type TimelineSwitch } from './wal-names.js';

/** A committed binary backup, as WAL retention needs it. */
export interface WalAnchorCandidate {
  /** The backup's key, to name it. */
  readonly key: string;
  /** Where WAL replay from it begins (the manifest's `server.startLsn`). */
  readonly startLsn: bigint;
  /** Where it ends (`server.stopLsn`): replay from it needs the bucket's WAL from there on. */
  readonly stopLsn?: bigint | undefined;
  /** Its timeline; undefined for manifests written before it was recorded (then assumed on the path). */
  readonly startTimeline: number | undefined;
  /**
   * The instant it stands for: its run's nominal instant (`runAt`, which `--at` sets) plus how
   * long it took, so the anchor's backup was complete by the instant the window begins.
   */
  readonly instantMs: number;
}

/** What {@link planWalPrune} reads. */
export interface WalPruneInput {
  /** Every object name under `wal/`. */
  readonly names: readonly string[];
  readonly histories: ReadonlyMap<number, readonly TimelineSwitch[]>;
  readonly backups: readonly WalAnchorCandidate[];
  readonly windowMs: number;
  readonly nowMs: number;
  readonly segmentSize: number;
}

/** What to delete, and why. */
export interface WalPrunePlan {
  /** Undefined when no committed binary backup on the path is older than the window. */
  readonly anchor: WalAnchorCandidate | undefined;
  /** Object names to delete (segments before the anchor's segment), in name order. */
  readonly deletions: readonly string[];
  /** Objects kept. */
  readonly keptCount: number;
}

/** Whether a backup's start lies on the path (replay from it leads to the newest timeline). */
function isOnPath(candidate: WalAnchorCandidate, path: readonly TimelineStretch[]): boolean {
  if (candidate.startTimeline === undefined) return true;
  const stretch = path.find(({ timeline }) => timeline === candidate.startTimeline);
  return (
    stretch !== undefined &&
    candidate.startLsn >= stretch.beginLsn &&
    (stretch.endLsn === undefined || candidate.startLsn < stretch.endLsn)
  );
}

/** The newest backup on the path whose instant is at least `windowMs` before `nowMs`. */
export function walAnchorOf(
  backups: readonly WalAnchorCandidate[],
  path: readonly TimelineStretch[],
  windowMs: number,
  nowMs: number,
): WalAnchorCandidate | undefined {
  const windowStartMs = nowMs - windowMs;
  let anchor: WalAnchorCandidate | undefined;
  for (const backup of backups) {
    if (backup.instantMs > windowStartMs || !isOnPath(backup, path)) continue;
    if (
      anchor === undefined ||
      backup.instantMs > anchor.instantMs ||
      (backup.instantMs === anchor.instantMs && backup.startLsn > anchor.startLsn)
    ) {
      anchor = backup;
    }
  }
  return anchor;
}

/** Decides which WAL objects to delete: see the module comment. */
export function planWalPrune(input: WalPruneInput): WalPrunePlan {
  const continuity = assessWalContinuity({
    files: input.names.map((name) => ({ name })),
    histories: input.histories,
    segmentSize: input.segmentSize,
  });
  const path =
    continuity.newestTimeline === undefined ? timelinePathOf(1, input.histories) : continuity.path;
  const anchor = walAnchorOf(input.backups, path, input.windowMs, input.nowMs);
  if (anchor === undefined) {
    return { anchor, deletions: [], keptCount: input.names.length };
  }
  const anchorSegment = segmentOf(anchor.startLsn, input.segmentSize);
  const files = input.names.flatMap((name) => {
    const file = parseWalFileName(name, input.segmentSize);
    return file?.kind === 'segment' ? [file] : [];
  });
  // The segment being written: its `.partial` is never deleted, wherever the anchor lies.
  const current = files.reduce<(typeof files)[number] | undefined>(
    (newest, file) =>
      newest === undefined ||
      file.timeline > newest.timeline ||
      (file.timeline === newest.timeline && file.segment > newest.segment)
        ? file
        : newest,
    undefined,
  );
  const deletions = files
    .filter(
      (file) =>
        file.segment < anchorSegment &&
        !(file.partial && current !== undefined && file.segmentName === current.segmentName),
    )
    .map((file) => file.name)
    .sort();
  return { anchor, deletions, keptCount: input.names.length - deletions.length };
}
