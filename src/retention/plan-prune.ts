/**
 * The pruning decision of a line: after a backup is committed, which of the line's earlier
 * backups to delete.
 */
import { slotOf } from './line-calendar.js';
import type { LineName } from './types.js';

/** A committed backup of a line, as the catalog records it. */
export interface LineBackup {
  readonly id: string;
  readonly line: LineName;
  /** The period number of the fire it belongs to. */
  readonly period: number;
  /** The 0-based slot it filled, under the keep in force when it was committed. */
  readonly slot: number;
  /** When its manifest was written, in milliseconds since the epoch. */
  readonly committedAtMs: number;
}

/** A backup to delete, and why, in words for the run's log and Events. */
export interface PruneDecision {
  readonly id: string;
  readonly reason: string;
}

/** The inputs of {@link planPrune}. */
export interface PlanPruneInput {
  /** The slots the line keeps now. */
  readonly keep: number;
  /**
   * Committed backups of one kind (binary or logical) before this run; backups of other lines
   * are ignored, and on-demand backups, which belong to no line, must not be passed.
   */
  readonly existing: readonly LineBackup[];
  /** The backup this run committed; `undefined` when the run failed or was skipped. */
  readonly committed: LineBackup | undefined;
}

function byRecencyDescending(left: LineBackup, right: LineBackup): number {
  return right.period - left.period || right.committedAtMs - left.committedAtMs;
}

function newestByCommitTime(backups: readonly LineBackup[], fallback: LineBackup): LineBackup {
  return backups.reduce(
    (newest, backup) => (backup.committedAtMs > newest.committedAtMs ? backup : newest),
    fallback,
  );
}

/**
 * Decides which backups of the committed backup's line to delete, newest first:
 * - nothing when no backup was committed: a failed run leaves every occupant in place;
 * - never the newest committed backup of the line;
 * - a backup whose slot still exists (below `keep`, and the slot of its period under the
 *   current `keep`) when a more recent backup occupies the same slot: the slot's previous
 *   occupant, replaced now that its successor is committed;
 * - a backup whose slot no longer exists (`keep` lowered or raised since, or the line
 *   disabled and enabled again) once `keep` more recent backups are kept.
 *
 * @returns the backups to delete, most recent first; the committed one is never among them.
 */
export function planPrune(input: PlanPruneInput): PruneDecision[] {
  const { keep, committed } = input;
  if (committed === undefined) {
    return [];
  }
  const backups = [
    ...input.existing.filter(
      (backup) => backup.line === committed.line && backup.id !== committed.id,
    ),
    committed,
  ].sort(byRecencyDescending);
  const newest = newestByCommitTime(backups, committed);
  const inPlace = (backup: LineBackup) =>
    backup.slot < keep && backup.slot === slotOf(backup.period, keep);
  const occupants = new Map<number, LineBackup>();
  const decisions: PruneDecision[] = [];
  let kept = 0;
  for (const backup of backups) {
    const occupant = inPlace(backup) ? (occupants.get(backup.slot) ?? backup) : undefined;
    if (occupant !== undefined) {
      occupants.set(backup.slot, occupant);
    }
    const reason = backup === newest ? undefined : pruneReason({ backup, occupant, kept, keep });
    if (reason === undefined) {
      kept += 1;
    } else {
      decisions.push({ id: backup.id, reason });
    }
  }
  return decisions;
}

interface PruneCandidate {
  readonly backup: LineBackup;
  /** The most recent backup in the candidate's slot, when its slot still exists. */
  readonly occupant: LineBackup | undefined;
  /** How many more recent backups are kept. */
  readonly kept: number;
  readonly keep: number;
}

function pruneReason({ backup, occupant, kept, keep }: PruneCandidate): string | undefined {
  if (occupant !== undefined) {
    return occupant === backup
      ? undefined
      : `replaced in ${backup.line} slot ${backup.slot} by ${occupant.id}`;
  }
  return kept >= keep
    ? `its ${backup.line} slot ${backup.slot} no longer exists with keep ${keep}, and ${keep} more recent backups are kept`
    : undefined;
}
