/**
 * The receiver's view of gaps: continuity over the bucket's WAL (retention/wal-continuity)
 * and the start of the newest committed binary backup. A gap before that start no longer
 * matters (the backup restores past it); the newest one after it is reported until such a
 * backup is committed.
 */
import type { Logger } from 'pino';
import { assessWalContinuity, type WalGap } from '../retention/wal-continuity.js';
import { parseLsn, parseWalFileName, type TimelineSwitch } from '../retention/wal-names.js';
import { type ArtifactStore, policyKeyPrefix, type WalStore } from '../storage/index.js';
import { readStoredHistory } from './bucket-wal.js';
import type { StoredWal } from './wal-uploader.js';

/** A gap as the status reports it. */
export interface ReportedGap extends WalGap {
  readonly detectedAtMs: number;
}

/** What {@link GapWatch} needs. */
export interface GapWatchInput {
  readonly walStore: WalStore;
  /** The policy's bucket, for its binary backups' manifests. */
  readonly backups: ArtifactStore;
  readonly location: {
    readonly prefix: string;
    readonly namespace: string;
    readonly policy: string;
  };
  readonly segmentSizeBytes: number;
  readonly clock: () => number;
  readonly logger: Logger;
}

/** How often the binary backups are listed again (an on-demand backup clears a gap). */
const BACKUP_LIST_INTERVAL_MS = 30_000;

/** The newest committed binary backup's start LSN, from its manifest; undefined with none. */
export async function newestBinaryBackupStart(
  backups: ArtifactStore,
  location: GapWatchInput['location'],
): Promise<bigint | undefined> {
  const entries = await backups.listBackups(policyKeyPrefix({ ...location, type: 'binary' }));
  let newest: bigint | undefined;
  for (const { manifest } of entries) {
    const start = parseLsn(manifest.server.startLsn ?? '');
    if (start !== undefined && (newest === undefined || start > newest)) newest = start;
  }
  return newest;
}

/** Finds the gap to report, from the uploader's knowledge of the bucket. */
export class GapWatch {
  private readonly histories = new Map<number, readonly TimelineSwitch[]>();
  private backupStart: bigint | undefined;
  private backupsListedAtMs = Number.NEGATIVE_INFINITY;
  private readonly detected = new Map<string, number>();

  constructor(private readonly input: GapWatchInput) {}

  /** Forces the next {@link check} to list the backups again. */
  refreshBackups(): void {
    this.backupsListedAtMs = Number.NEGATIVE_INFINITY;
  }

  /** The newest gap after the newest binary backup's start, or undefined. */
  async check(stored: ReadonlyMap<string, StoredWal>): Promise<ReportedGap | undefined> {
    await this.loadHistories(stored);
    const now = this.input.clock();
    if (now - this.backupsListedAtMs >= BACKUP_LIST_INTERVAL_MS) {
      this.backupStart = await newestBinaryBackupStart(this.input.backups, this.input.location);
      this.backupsListedAtMs = now;
    }
    const continuity = assessWalContinuity({
      files: [...stored].map(([name, { endLsn }]) => ({ name, endLsn })),
      histories: this.histories,
      segmentSize: this.input.segmentSizeBytes,
    });
    const start = this.backupStart;
    const gap = continuity.gaps.filter((one) => start === undefined || one.toLsn > start).at(-1);
    if (gap === undefined) return undefined;
    const key = `${gap.timeline}/${gap.fromLsn}/${gap.toLsn}`;
    const detectedAtMs = this.detected.get(key) ?? now;
    if (!this.detected.has(key)) {
      this.detected.set(key, now);
      this.input.logger.warn(
        { timeline: gap.timeline, fromLsn: String(gap.fromLsn), toLsn: String(gap.toLsn) },
        'WAL is missing from the bucket',
      );
    }
    return { ...gap, detectedAtMs };
  }

  /** Reads each history file the bucket holds once (they never change). */
  private async loadHistories(stored: ReadonlyMap<string, StoredWal>): Promise<void> {
    for (const name of stored.keys()) {
      const file = parseWalFileName(name, this.input.segmentSizeBytes);
      if (file?.kind !== 'history' || this.histories.has(file.timeline)) continue;
      this.histories.set(file.timeline, await readStoredHistory(this.input.walStore, file));
    }
  }
}
