/**
 * The pruning decision of a line: after a backup is committed, which of the line's earlier
 * backups to delete; and the order that says which backup of a line is the newest, which
 * restores and the catalog's listing use too.
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
  /**
   * When its manifest was written, by the clock of the runner that wrote it, in
   * milliseconds since the epoch. Runners on different nodes disagree, so it decides only
   * what the period and the server's clock leave open.
   */
  readonly committedAtMs: number;
  /**
   * The backed-up server's own clock when the backup began (the manifest's
   * `server.startedAt`); undefined for backups whose manifest predates it.
   */
  readonly serverTimeMs?: number | undefined;
}

/** The instants that order backups across lines: the server's clock, then the runner's. */
export type BackupClock = Pick<LineBackup, 'committedAtMs' | 'serverTimeMs'>;

/**
 * Orders backups by when they were taken, most recent first, with one clock where there is
 * one: the server's (all runs of a policy and type read the server they back up), and the
 * runners' `committedAt` only between backups without it. A backup without the server's
 * time was written by an earlier release, so it counts as older than one with it.
 */
export function compareByClock(a: BackupClock, b: BackupClock): number {
  if (a.serverTimeMs !== undefined && b.serverTimeMs !== undefined) {
    const byServer = b.serverTimeMs - a.serverTimeMs;
    if (byServer !== 0) return byServer;
  } else if (a.serverTimeMs !== undefined || b.serverTimeMs !== undefined) {
    return a.serverTimeMs === undefined ? 1 : -1;
  }
  return b.committedAtMs - a.committedAtMs;
}

/**
 * Orders backups of one line newest first: by period (the calendar's, decided from each
 * run's trigger, never from a runner's clock), then by {@link compareByClock}, then by id,
 * so that the order is total. The first is the line's newest, which is never pruned.
 */
export function compareNewestFirst(a: LineBackup, b: LineBackup): number {
  return b.period - a.period || compareByClock(a, b) || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);
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

/**
 * Decides which backups of the committed backup's line to delete, newest first (by
 * {@link compareNewestFirst}):
 * - nothing when no backup was committed: a failed run leaves every occupant in place;
 * - never the newest committed backup of the line, nor the one this run committed (a run
 *   given an earlier period, e.g. file mode's `--at`, keeps its backup until a later run);
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
  ].sort(compareNewestFirst);
  const newest = backups[0];
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
    const protectedBackup = backup === newest || backup === committed;
    const reason = protectedBackup ? undefined : pruneReason({ backup, occupant, kept, keep });
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
