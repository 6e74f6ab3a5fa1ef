/**
 * The uploader: what pg_receivewal wrote to the spool goes to the bucket. Each completed
 * segment at once, compressed, with the SHA-256 of the stored bytes in its metadata; the
 * unfinished segment (`.partial`) every upload interval once its confirmed end moved, with
 * that end as `end-lsn`; every history file, uncompressed, never deleted. With encryption
 * each is also encrypted for the policy's recipients (`.age`, their fingerprints in the
 * `recipients` metadata; a history file's switches in `timeline-switches`, for readers
 * without the identity). A segment leaves the spool only after the bucket holds it, and the
 * newest completed one stays so that pg_receivewal resumes after it. One file at a time:
 * memory stays bounded.
 */
import { access, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { AgeRecipient } from '../encryption/index.js';
import {
  formatLsn,
  formatTimelineSwitches,
  historyFileName,
  parseLsn,
  parseTimelineHistory,
  parseWalFileName,
  segmentStartLsn,
  type TimelineSwitch,
  type WalCompression,
  walObjectName,
} from '../retention/wal-names.js';
import type { WalStore } from '../storage/index.js';
import { prepareWalFile } from './compress-wal-file.js';
import { type SpoolFile, type SpoolLayout, scanSpool } from './spool.js';

/** What the bucket holds of a WAL file, as far as the uploader knows. */
export interface StoredWal {
  /** For a `.partial`: where its real WAL ends. */
  readonly endLsn?: bigint | undefined;
}

/** The newest WAL the uploader stored. */
export interface ArchivedWal {
  readonly file: string;
  /** The end of the WAL in the bucket after it. */
  readonly lsn: bigint;
  readonly timeMs: number;
  readonly timeline: number;
}

/** The policy's recipients, when its WAL is encrypted. */
export interface WalEncryption {
  readonly recipients: readonly AgeRecipient[];
  /** Their fingerprints, as the objects' `recipients` metadata names them. */
  readonly fingerprints: readonly string[];
}

/** What {@link WalUploader} needs. */
export interface WalUploaderInput {
  readonly store: WalStore;
  readonly layout: SpoolLayout;
  readonly segmentSizeBytes: number;
  readonly compression: WalCompression;
  /** Encrypt every object for these recipients; undefined: store plain. */
  readonly encryption?: WalEncryption | undefined;
  readonly uploadIntervalMs: number;
  readonly clock: () => number;
  readonly logger: Logger;
  /**
   * Where the WAL pg_receivewal confirmed durable ends (the slot's restart_lsn), read just
   * before a partial is copied: a partial is padded with zeros to the segment size, so its
   * size says nothing. Undefined when unknown (no primary answers).
   */
  readonly confirmedEnd: () => Promise<bigint | undefined>;
  /** The last confirmed end seen, without asking the primary (for the spool's figures). */
  readonly knownConfirmedEnd: () => bigint | undefined;
}

/** What one pass did and left. */
export interface UploadPass {
  /** Names stored in this pass. */
  readonly stored: readonly string[];
  /** WAL on the spool that the bucket does not hold yet, in bytes. */
  readonly pendingBytes: number;
}

/** A file that is gone (ENOENT), e.g. a partial pg_receivewal renamed while it was read. */
function isMissingFile(error: unknown): boolean {
  return typeof error === 'object' && error !== null && 'code' in error && error.code === 'ENOENT';
}

/** The smaller of two LSNs (Math.min takes no bigint). */
function bigintMin(a: bigint, b: bigint): bigint {
  return a < b ? a : b;
}

/** The end of a segment (its last byte + 1). */
function segmentEndLsn(segment: bigint, segmentSizeBytes: number): bigint {
  return segmentStartLsn(segment + 1n, segmentSizeBytes);
}

/** Uploads the spool; call {@link pass} whenever the spool may have changed. */
export class WalUploader {
  /** Objects the bucket holds (from the listing at start, then each upload). */
  readonly stored = new Map<string, StoredWal>();
  private archivedWal: ArchivedWal | undefined;
  private lastPartialUploadMs = Number.NEGATIVE_INFINITY;
  /** Timeline switches read from the history files on the spool, by parent timeline. */
  private readonly switches = new Map<number, TimelineSwitch>();

  constructor(private readonly input: WalUploaderInput) {}

  /** The newest WAL stored, if any. */
  get archived(): ArchivedWal | undefined {
    return this.archivedWal;
  }

  /**
   * Reads what the bucket holds (names; the end-lsn of each `.partial`), so a restart uploads
   * only what is missing.
   */
  async loadBucket(): Promise<void> {
    const { store, segmentSizeBytes } = this.input;
    const objects = await store.list();
    for (const object of objects) {
      const parsed = parseWalFileName(object.name, segmentSizeBytes);
      if (parsed === undefined) continue;
      if (parsed.kind === 'segment' && parsed.partial) {
        const head = await store.head(object.name);
        const endLsn = head?.endLsn === undefined ? undefined : parseLsn(head.endLsn);
        this.stored.set(object.name, { endLsn });
        this.noteArchived(object.name, endLsn, object.lastModifiedMs);
      } else {
        this.stored.set(object.name, {});
        this.noteArchived(object.name, undefined, object.lastModifiedMs);
      }
    }
  }

  /** Records a stored object as the newest archived WAL when it ends later than the last. */
  private noteArchived(name: string, endLsn: bigint | undefined, timeMs: number): void {
    const parsed = parseWalFileName(name, this.input.segmentSizeBytes);
    if (parsed?.kind !== 'segment') return;
    const end = endLsn ?? segmentEndLsn(parsed.segment, this.input.segmentSizeBytes);
    if (this.archivedWal !== undefined && this.archivedWal.lsn >= end) return;
    this.archivedWal = { file: name, lsn: end, timeMs, timeline: parsed.timeline };
  }

  /**
   * Stores what the bucket lacks. `flushPartial`: upload the unfinished segment now, whatever
   * the interval (a stop). Throws on the first failure; what was stored before it stays stored.
   */
  async pass(flushPartial = false): Promise<UploadPass> {
    const { layout, segmentSizeBytes } = this.input;
    const files = await scanSpool(layout.walDir, segmentSizeBytes);
    const stored: string[] = [];
    for (const file of files) {
      if (file.kind === 'history') await this.storeHistory(file, stored);
    }
    const segments = files.filter((file) => file.kind === 'segment');
    const newestSegment = segments.at(-1);
    for (const file of segments) {
      await this.storeSegment(file, file === newestSegment, stored);
    }
    const partials = files.filter((file) => file.kind === 'partial');
    const current = partials.at(-1);
    for (const file of partials) {
      if (file === current && !this.isFinished(file)) {
        await this.storeCurrentPartial(file, flushPartial, stored);
      } else {
        await this.storeFinishedPartial(file, stored);
      }
    }
    return { stored, pendingBytes: this.pendingBytes(files) };
  }

  /**
   * WAL on the spool the bucket does not hold yet, scanned now: the figure must grow while
   * the bucket fails, when no pass gets to the end.
   */
  async spoolPendingBytes(): Promise<number> {
    return this.pendingBytes(
      await scanSpool(this.input.layout.walDir, this.input.segmentSizeBytes),
    );
  }

  /** WAL on the spool not yet in the bucket: completed segments and the partial's confirmed rest. */
  private pendingBytes(files: readonly SpoolFile[]): number {
    let pending = 0;
    for (const file of files) {
      if (file.kind === 'segment' && !this.stored.has(this.objectNameOf(file, false))) {
        pending += file.sizeBytes;
      }
    }
    const current = files.filter((file) => file.kind === 'partial').at(-1);
    if (current?.kind === 'partial') {
      const end = this.input.knownConfirmedEnd();
      const start = segmentStartLsn(current.segment, this.input.segmentSizeBytes);
      const storedEnd = this.stored.get(this.objectNameOf(current, true))?.endLsn ?? start;
      if (end !== undefined && end > storedEnd) {
        const limit = segmentEndLsn(current.segment, this.input.segmentSizeBytes);
        pending += Number(bigintMin(end, limit) - storedEnd);
      }
    }
    return pending;
  }

  private get encrypted(): boolean {
    return this.input.encryption !== undefined;
  }

  private objectNameOf(file: SpoolFile, partial: boolean): string {
    if (file.kind === 'history') {
      return walObjectName(file.name, { compression: 'none', encrypted: this.encrypted });
    }
    return walObjectName(file.segmentName, {
      compression: this.input.compression,
      partial,
      encrypted: this.encrypted,
    });
  }

  private async storeHistory(file: SpoolFile, stored: string[]): Promise<void> {
    const path = join(this.input.layout.walDir, file.name);
    const name = this.objectNameOf(file, false);
    if (this.stored.has(name) && this.switches.has(file.timeline - 1)) return;
    const switches = await this.readHistory(path);
    if (this.stored.has(name)) return;
    // The switches travel in metadata only when the file itself cannot be read without a key.
    const timelineSwitches =
      this.encrypted && switches !== undefined ? formatTimelineSwitches(switches) : undefined;
    await this.upload(name, path, 'none', { timelineSwitches });
    this.stored.set(name, {});
    stored.push(name);
  }

  /** Reads a history file of the spool and notes its switches; undefined when unreadable. */
  private async readHistory(path: string): Promise<TimelineSwitch[] | undefined> {
    const text = await readFile(path, 'utf8').catch(() => undefined);
    if (text === undefined) return undefined;
    const switches = parseTimelineHistory(text);
    for (const line of switches) this.switches.set(line.parentTimeline, line);
    return switches;
  }

  /**
   * A partial on a timeline that later ended: its real WAL ends at the switch LSN the next
   * timeline's history file names, and pg_receivewal never writes to it again.
   */
  private isFinished(file: SpoolFile): boolean {
    return file.kind === 'partial' && this.switchEndOf(file) !== undefined;
  }

  private switchEndOf(file: SpoolFile): bigint | undefined {
    if (file.kind === 'history') return undefined;
    const end = this.switches.get(file.timeline)?.switchLsn;
    if (end === undefined) return undefined;
    const start = segmentStartLsn(file.segment, this.input.segmentSizeBytes);
    return end > start && end <= segmentEndLsn(file.segment, this.input.segmentSizeBytes)
      ? end
      : undefined;
  }

  private async storeSegment(file: SpoolFile, keep: boolean, stored: string[]): Promise<void> {
    if (file.kind === 'history') return;
    const name = this.objectNameOf(file, false);
    if (!this.stored.has(name)) {
      await this.upload(name, join(this.input.layout.walDir, file.name), this.input.compression);
      this.stored.set(name, {});
      this.noteArchived(name, undefined, this.input.clock());
      stored.push(name);
      // The segment supersedes its partial in the bucket.
      await this.deletePartials(file.segmentName, this.objectNameOf(file, true), undefined);
    }
    if (!keep) await rm(join(this.input.layout.walDir, file.name), { force: true });
  }

  /** The last partial of an ended timeline: stored once with the switch LSN, then removed. */
  private async storeFinishedPartial(file: SpoolFile, stored: string[]): Promise<void> {
    const end = this.switchEndOf(file);
    if (end === undefined || file.kind === 'history') {
      // A partial with nothing to say where it ends (behind a completed segment): pg_receivewal
      // left it when it restarted; the completed segment holds its WAL.
      return;
    }
    const name = this.objectNameOf(file, true);
    if (this.stored.get(name)?.endLsn !== end) await this.storePartial(file.name, end, stored);
    await rm(join(this.input.layout.walDir, file.name), { force: true });
  }

  private async storeCurrentPartial(
    file: SpoolFile,
    force: boolean,
    stored: string[],
  ): Promise<void> {
    if (file.kind === 'history') return;
    const now = this.input.clock();
    if (!force && now - this.lastPartialUploadMs < this.input.uploadIntervalMs) return;
    const confirmed = await this.input.confirmedEnd();
    if (confirmed === undefined) return;
    // A timeline switch that landed since the scan: the confirmed end may lie on the next
    // timeline already. The next pass stores this partial as finished, with the switch LSN.
    const nextHistory = join(this.input.layout.walDir, historyFileName(file.timeline + 1));
    const switched = await access(nextHistory).then(
      () => true,
      () => false,
    );
    if (switched) return;
    const start = segmentStartLsn(file.segment, this.input.segmentSizeBytes);
    const limit = segmentEndLsn(file.segment, this.input.segmentSizeBytes);
    // Past the segment: pg_receivewal is about to complete it; the segment itself follows.
    if (confirmed <= start || confirmed >= limit) return;
    const name = this.objectNameOf(file, true);
    const previous = this.stored.get(name)?.endLsn;
    if (previous !== undefined && previous >= confirmed) return;
    this.lastPartialUploadMs = now;
    try {
      await this.storePartial(file.name, confirmed, stored);
    } catch (error) {
      // pg_receivewal completed the segment meanwhile (renamed it): the next pass stores it.
      if (isMissingFile(error)) return;
      throw error;
    }
  }

  /**
   * Deletes the stored partials of a segment (always `always`, which may not be known yet),
   * except `keep`: a segment supersedes them, and a partial another (one stored under other
   * suffixes before compression or encryption changed, which would shadow the newer one).
   */
  private async deletePartials(
    segmentName: string,
    always: string | undefined,
    keep: string | undefined,
  ): Promise<void> {
    const partials = [...this.stored.keys()].filter((key) => {
      const parsed = parseWalFileName(key, this.input.segmentSizeBytes);
      return (
        parsed?.kind === 'segment' &&
        parsed.partial &&
        parsed.segmentName === segmentName &&
        key !== keep
      );
    });
    if (always !== undefined && always !== keep && !partials.includes(always)) {
      partials.push(always);
    }
    if (partials.length === 0) return;
    await this.input.store.delete(partials);
    for (const partial of partials) this.stored.delete(partial);
  }

  /** Stores the spool's partial `fileName` as `<segment><suffix>.partial[.age]` ending at `endLsn`. */
  private async storePartial(fileName: string, endLsn: bigint, stored: string[]): Promise<void> {
    const segmentName = fileName.replace(/\.partial$/, '');
    const name = walObjectName(segmentName, {
      compression: this.input.compression,
      partial: true,
      encrypted: this.encrypted,
    });
    await this.upload(name, join(this.input.layout.walDir, fileName), this.input.compression, {
      endLsn,
    });
    this.stored.set(name, { endLsn });
    this.noteArchived(name, endLsn, this.input.clock());
    stored.push(name);
    await this.deletePartials(segmentName, undefined, name);
  }

  /** Compresses (and encrypts) to the spool's tmp/ and stores; the copy is removed either way. */
  private async upload(
    name: string,
    source: string,
    compression: WalCompression,
    extra: { readonly endLsn?: bigint; readonly timelineSwitches?: string | undefined } = {},
  ): Promise<void> {
    const target = join(this.input.layout.tmpDir, `${name}.upload`);
    const { encryption } = this.input;
    try {
      const prepared = await prepareWalFile(source, target, compression, encryption?.recipients);
      await this.input.store.putFile(name, prepared.path, {
        sha256: prepared.sha256,
        ...(extra.endLsn === undefined ? {} : { endLsn: formatLsn(extra.endLsn) }),
        ...(encryption === undefined ? {} : { recipients: encryption.fingerprints }),
        ...(extra.timelineSwitches === undefined
          ? {}
          : { timelineSwitches: extra.timelineSwitches }),
      });
      this.input.logger.debug({ name, bytes: prepared.sizeBytes }, 'stored WAL');
    } finally {
      await rm(target, { force: true });
    }
  }
}
