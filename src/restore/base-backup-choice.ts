/**
 * Which binary backup a point-in-time restore starts from, and whether the target can be
 * reached from it. Pure: the catalog, the bucket's WAL continuity and (for the reach) the
 * newest commit found in the WAL are given.
 *
 * A backup is usable from its **end** (its stop LSN, where its own WAL makes it consistent),
 * never from its start: a target between a backup's start and end is reached from the backup
 * before it. For a time target the end is the manifest's `completedAt`, written after the
 * backup stopped, so the choice errs towards the older backup (more WAL to replay), never
 * towards one that is not consistent yet at the target.
 */
import {
  reachFrom,
  timelineAt,
  type WalContinuity,
  type WalReach,
} from '../retention/wal-continuity.js';
import { formatLsn, parseLsn } from '../retention/wal-names.js';
import type { CatalogEntry } from '../storage/index.js';
import { describeTarget, formatMicros, type RecoveryTarget } from './recovery-target.js';

/** A backup with the WAL position it ends at. */
export interface BaseBackup {
  readonly entry: CatalogEntry;
  readonly stopLsn: bigint;
  /** `completedAt` in microseconds. */
  readonly endMicros: number;
  /** Replay from its end: how far without a hole. */
  readonly reach: WalReach;
}

/** The newest commit (or abort) record found in the WAL before the reach's end. */
export interface NewestCommit {
  readonly micros: number;
  readonly lsn: bigint;
}

function endMicrosOf(entry: CatalogEntry): number {
  return Date.parse(entry.manifest.completedAt) * 1000;
}

/** Whether the backup's WAL lies on the timelines recovery follows (the latest's path). */
function onPath(entry: CatalogEntry, stopLsn: bigint, continuity: WalContinuity): boolean {
  const started = entry.manifest.server.startTimeline;
  if (continuity.path.length === 0 || started === undefined) return true;
  return timelineAt(continuity.path, stopLsn) === started;
}

function usable(entries: readonly CatalogEntry[], continuity: WalContinuity) {
  return entries.flatMap((entry) => {
    const stopLsn = parseLsn(entry.manifest.server.stopLsn ?? '');
    if (stopLsn === undefined || !onPath(entry, stopLsn, continuity)) return [];
    return [{ entry, stopLsn, endMicros: endMicrosOf(entry) }];
  });
}

function endsBefore(target: RecoveryTarget, backup: { stopLsn: bigint; endMicros: number }) {
  if (target.kind === 'time') return backup.endMicros <= target.micros;
  if (target.kind === 'lsn') return backup.stopLsn <= target.lsn;
  return true;
}

function describeEnd(backup: { entry: CatalogEntry; stopLsn: bigint }): string {
  return `${backup.entry.key} (started ${backup.entry.manifest.startedAt}, ended ${backup.entry.manifest.completedAt} at ${formatLsn(backup.stopLsn)})`;
}

/**
 * The newest usable backup that ends at or before the target.
 *
 * @returns the backup, or a message naming why there is none and what to do
 */
export function chooseBaseBackup(
  entries: readonly CatalogEntry[],
  continuity: WalContinuity,
  target: RecoveryTarget,
  where: string,
): BaseBackup | string {
  const candidates = usable(entries, continuity);
  if (candidates.length === 0) {
    return entries.length === 0
      ? `there are no committed binary backups of ${where}: a point-in-time restore starts from one; take a binary backup first`
      : `none of the ${entries.length} committed binary backups of ${where} lies on the timelines the archived WAL leads to (or records its stop LSN): take a binary backup first`;
  }
  const before = candidates
    .filter((backup) => endsBefore(target, backup))
    .sort((a, b) => (a.stopLsn < b.stopLsn ? 1 : a.stopLsn > b.stopLsn ? -1 : 0));
  const chosen = before[0];
  if (chosen === undefined) {
    const oldest = [...candidates].sort((a, b) => (a.stopLsn < b.stopLsn ? -1 : 1))[0];
    return `no committed binary backup of ${where} ends at or before ${describeTarget(target)}: a backup is usable only from its end, and the oldest one, ${oldest === undefined ? '' : describeEnd(oldest)}, ends after the target; give a target after its end`;
  }
  return { ...chosen, reach: reachFrom(continuity, chosen.stopLsn) };
}

/** What the restore knows of the WAL that follows the chosen backup. */
export interface ReachFacts {
  readonly backup: BaseBackup;
  /** Undefined when no commit was found in the WAL read. */
  readonly newestCommit: NewestCommit | undefined;
  /** The start of the newest record recovery can read; undefined when unknown. */
  readonly lastRecordLsn: bigint | undefined;
}

/** The latest instant and position a recovery from the backup reaches, for messages. */
export function describeReach(facts: ReachFacts): string {
  const { backup, newestCommit } = facts;
  const gap = backup.reach.gaps[0];
  const commit =
    newestCommit === undefined
      ? `no transaction commit was found in the archived WAL after ${backup.entry.key}, which ends at ${backup.entry.manifest.completedAt}`
      : `the latest reachable instant is just before ${formatMicros(newestCommit.micros)}, the newest commit archived${gap === undefined ? '' : ' before the gap'} (at WAL position ${formatLsn(newestCommit.lsn)})`;
  const gapText =
    gap === undefined
      ? ''
      : `WAL is missing from the bucket on timeline ${gap.timeline} from ${formatLsn(gap.fromLsn)} to ${formatLsn(gap.toLsn)}; `;
  return `${gapText}${commit}; replay from ${backup.entry.key} reaches WAL position ${formatLsn(backup.reach.reachableLsn)}`;
}

/**
 * Refuses a target recovery would not reach: beyond the newest archived WAL, or after a
 * gap. A time target must lie before the newest commit archived (recovery stops at the first
 * commit after the target; without one it ends before the target and fails); an LSN target
 * at or before the start of the newest record.
 *
 * @returns a message, or undefined when the target is reachable
 */
export function refuseUnreachable(target: RecoveryTarget, facts: ReachFacts): string | undefined {
  if (target.kind === 'latest') return undefined;
  const gap = facts.backup.reach.gaps[0];
  const why =
    gap === undefined
      ? 'lies beyond the newest archived WAL'
      : 'lies inside or after a gap in the archived WAL';
  const fix =
    gap === undefined
      ? 'Give an earlier target, or --target-latest to replay all the WAL there is'
      : 'Give a target before the gap; a target after it needs a binary backup taken after the gap (the controller starts one when it sees a gap)';
  if (target.kind === 'time') {
    const newest = facts.newestCommit;
    if (newest !== undefined && target.micros < newest.micros) return undefined;
    return `${describeTarget(target)} ${why}: ${describeReach(facts)}. ${fix}`;
  }
  const last = facts.lastRecordLsn ?? facts.newestCommit?.lsn;
  if (last !== undefined && target.lsn <= last && target.lsn < facts.backup.reach.reachableLsn)
    return undefined;
  return `${describeTarget(target)} ${why}: ${describeReach(facts)}${last === undefined ? '' : `; the newest record starts at ${formatLsn(last)}`}. ${fix}`;
}
