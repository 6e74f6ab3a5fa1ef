/**
 * The WAL receiver (`pgbackup wal-receive`): pg_receivewal of the server's major streams WAL
 * through the policy's permanent slot onto the spool (`--synchronous`: the server's slot only
 * moves past WAL fsynced there), and the uploader moves it into the bucket. Three loops run
 * side by side until the stop signal:
 * - streaming: find the primary (backoff 1 s growing to 10 s while none answers), make the
 *   slot, run pg_receivewal, poll the primary each second; a lost slot is dropped and made
 *   again (the missing WAL becomes a gap) and the spool restarts from the new slot;
 * - uploading: a pass over the spool on every change of it and every second, retried with
 *   backoff while the bucket fails (the spool grows meanwhile);
 * - reporting: `status.continuous` every status interval and on each change of state.
 * On stop: pg_receivewal is stopped, the spool drained into the bucket (bounded), and the last
 * status written.
 */
import { type FSWatcher, watch } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { type ContinuousState, type ContinuousStatus, SLOT_WAL_STATUSES } from '../api/index.js';
import {
  type Credentials,
  dropWalSlot,
  locatePgTool,
  type ReceiveWalExit,
  type ReceiveWalProcess,
  startReceiveWal,
  walSlotNameOf,
} from '../postgres/index.js';
import { formatLsn, type WalCompression } from '../retention/wal-names.js';
import type { ArtifactStore, WalStore } from '../storage/index.js';
import { GapWatch, type ReportedGap } from './gap-watch.js';
import { LagTracker } from './lag-tracker.js';
import {
  connectPrimary,
  type EndpointSource,
  ensureSlot,
  type PrimaryLink,
  type PrimaryPoll,
  pollPrimary,
} from './primary-link.js';
import { pruneWal } from './prune-wal.js';
import type { ReceiverMetrics } from './receiver-metrics.js';
import { clearSpoolSegments, prepareSpool, type SpoolLayout } from './spool.js';
import type { StatusSink } from './status-sinks.js';
import { type WalEncryption, WalUploader } from './wal-uploader.js';

/** What {@link runWalReceiver} needs. */
export interface WalReceiverInput {
  readonly namespace: string;
  readonly policy: string;
  readonly compression: WalCompression;
  /** The policy's recipients when `spec.storage.encryption` is set: every object is encrypted. */
  readonly encryption?: WalEncryption | undefined;
  readonly uploadIntervalMs: number;
  readonly endpoints: EndpointSource;
  /** The login for SQL (discovery, the slot). */
  readonly credentials: Credentials;
  /** The login pg_receivewal replicates with. */
  readonly replicationCredentials: Credentials;
  readonly walStore: WalStore;
  /** The policy's bucket as the runner sees it: its binary backups clear a gap. */
  readonly backups: ArtifactStore;
  /** `spec.storage.s3.prefix`. */
  readonly storagePrefix: string;
  /** `spec.continuous.window`: WAL older than the window's anchor backup is deleted hourly. */
  readonly windowMs: number;
  readonly spoolDir: string;
  readonly pgRoot: string | undefined;
  readonly sinks: readonly StatusSink[];
  readonly metrics: ReceiverMetrics | undefined;
  /** How often the status is written when nothing changes; default 10 s. */
  readonly statusIntervalMs?: number;
  /** The longest the spool is drained on stop; default 45 s. */
  readonly drainTimeoutMs?: number;
  readonly logger: Logger;
  readonly clock: () => number;
  /** Aborted to stop (SIGTERM, SIGINT). */
  readonly signal: AbortSignal;
}

const BACKOFF_MIN_MS = 1_000;
const BACKOFF_MAX_MS = 10_000;
/** How often WAL retention runs (wal/prune-wal), the first time once the bucket is read. */
const PRUNE_INTERVAL_MS = 3_600_000;
/** A bucket back from an outage is tried again within this. */
const UPLOAD_BACKOFF_MAX_MS = 10_000;
const POLL_INTERVAL_MS = 1_000;
const MIN_PASS_INTERVAL_MS = 100;
/** /healthz fails when the report loop has not run for this long (a stuck event loop). */
const STALE_REPORT_MS = 120_000;
/** Refusals with the slot held by another walsender before its walsender is terminated. */
const SLOT_TAKEOVER_ATTEMPTS = 3;
/** pg_receivewal that streamed this long counts as a success: the next failure waits 1 s again. */
const HEALTHY_RUN_MS = 10_000;

/** `pgbackup-wal-<namespace>-<policy>`, within PostgreSQL's 63 characters. */
export function applicationNameOf(namespace: string, policy: string): string {
  return `pgbackup-wal-${namespace}-${policy}`.slice(0, 63);
}

/** Sleeps, but wakes when the signal aborts. */
async function pause(ms: number, signal: AbortSignal): Promise<void> {
  await sleep(ms, undefined, { signal }).catch(() => undefined);
}

/** `wal_status` as the status schema knows it (a newer server's unknown value is left out). */
function walStatusOf(value: string | undefined): {
  walStatus?: (typeof SLOT_WAL_STATUSES)[number];
} {
  const known = SLOT_WAL_STATUSES.find((status) => status === value);
  return known === undefined ? {} : { walStatus: known };
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Runs the receiver until `input.signal` aborts; resolves once the spool is drained. */
export async function runWalReceiver(input: WalReceiverInput): Promise<void> {
  const receiver = new WalReceiver(input);
  await receiver.run();
}

/** The receiver's moving parts; see the module's comment. */
export class WalReceiver {
  private layout: SpoolLayout;
  private readonly slot: string;
  private readonly lag = new LagTracker();
  private uploader: WalUploader | undefined;
  private gapWatch: GapWatch | undefined;
  private bucketLoaded = false;
  private link: PrimaryLink | undefined;
  private lastPoll: PrimaryPoll | undefined;
  private confirmedLsn: bigint | undefined;
  private state: ContinuousState = 'Starting';
  private message = 'finding the primary';
  private gap: ReportedGap | undefined;
  /** Set when the slot was lost and made again, until the bucket shows what went missing. */
  private slotLostAtMs: number | undefined;
  private uploadError: string | undefined;
  private pendingBytes = 0;
  private wake: (() => void) | undefined;
  private uploadLock: Promise<unknown> = Promise.resolve();
  private lastWritten: string | undefined;
  private lastReportMs: number;
  private lastPruneMs = Number.NEGATIVE_INFINITY;
  private slotActiveExits = 0;
  /** The last state logged: one log line per change of state, as file mode promises. */
  private loggedState: ContinuousState | undefined;
  private segmentSizeBytes = 0;
  private streamingEnded = false;
  private endStreaming: () => void = () => undefined;
  /** Settles when the stream loop has ended (the stop). */
  private readonly streamingDone = new Promise<void>((resolve) => {
    this.endStreaming = resolve;
  });
  /** The end of the bucket's WAL when the slot was lost: the gap shows once WAL past it is stored. */
  private archivedAtSlotLoss: bigint | undefined;

  constructor(private readonly input: WalReceiverInput) {
    // Until run() prepares it; nothing reads the layout before.
    this.layout = { root: input.spoolDir, walDir: join(input.spoolDir, 'wal'), tmpDir: '' };
    this.slot = walSlotNameOf(input.namespace, input.policy);
    this.lastReportMs = input.clock();
  }

  async run(): Promise<void> {
    this.layout = await prepareSpool(this.input.spoolDir);
    let watcher: FSWatcher | undefined;
    try {
      watcher = watch(this.layout.walDir, () => this.wake?.());
      watcher.on('error', () => undefined);
    } catch {
      // The periodic pass covers a file system that cannot be watched.
    }
    const reporting = this.reportLoop();
    const uploading = this.uploadLoop();
    try {
      await this.streamLoop();
    } finally {
      this.streamingEnded = true;
      this.endStreaming();
      this.wake?.();
      await uploading;
      watcher?.close();
      await this.drain();
      await reporting;
      await this.writeStatus(true);
      await this.link?.end();
      await rm(this.layout.tmpDir, { recursive: true, force: true });
    }
  }

  /** Whether the receiver still reports, for /healthz (stopping counts as alive). */
  alive(): boolean {
    return this.input.clock() - this.lastReportMs < STALE_REPORT_MS;
  }

  // Streaming ---------------------------------------------------------------------------

  private async streamLoop(): Promise<void> {
    const { signal } = this.input;
    let backoffMs = BACKOFF_MIN_MS;
    while (!signal.aborted) {
      const startedAtMs = this.input.clock();
      const exit = await this.streamOnce().catch((error: unknown) => {
        this.setState(this.link === undefined ? 'NoPrimary' : this.state, messageOf(error));
        return undefined;
      });
      if (signal.aborted) break;
      if (exit !== undefined) await this.afterExit(exit);
      const healthy = this.input.clock() - startedAtMs >= HEALTHY_RUN_MS;
      backoffMs = healthy ? BACKOFF_MIN_MS : Math.min(backoffMs * 2, BACKOFF_MAX_MS);
      if (healthy) this.slotActiveExits = 0;
      await pause(backoffMs, signal);
    }
  }

  /** One connection's life: primary, slot, pg_receivewal, polls until it ends. */
  private async streamOnce(): Promise<ReceiveWalExit | undefined> {
    const link = await this.connect();
    await this.ensureUploader(link);
    await this.checkSlot(link);
    const binary = await locatePgTool({
      tool: 'pg_receivewal',
      major: link.major,
      root: this.input.pgRoot,
    });
    const process = startReceiveWal({
      binary,
      endpoint: link.endpoint,
      credentials: this.input.replicationCredentials,
      slot: this.slot,
      directory: this.layout.walDir,
      applicationName: applicationNameOf(this.input.namespace, this.input.policy),
    });
    this.input.logger.info({ primary: link.where, pid: process.pid }, 'streaming WAL');
    return this.pollWhileStreaming(link, process);
  }

  private async connect(): Promise<PrimaryLink> {
    if (this.link !== undefined && !this.link.broken()) return this.link;
    await this.link?.end();
    this.link = undefined;
    this.lag.reset();
    try {
      this.link = await connectPrimary(this.input.endpoints, this.input.credentials);
    } catch (error) {
      this.setState('NoPrimary', messageOf(error));
      throw error;
    }
    this.input.logger.info({ primary: this.link.where }, 'found the primary');
    return this.link;
  }

  /** The uploader needs the segment size, which the first primary tells. */
  private async ensureUploader(link: PrimaryLink): Promise<void> {
    if (this.uploader !== undefined) return;
    const { input } = this;
    this.segmentSizeBytes = link.segmentSizeBytes;
    this.uploader = new WalUploader({
      store: input.walStore,
      layout: this.layout,
      segmentSizeBytes: link.segmentSizeBytes,
      compression: input.compression,
      encryption: input.encryption,
      uploadIntervalMs: input.uploadIntervalMs,
      clock: input.clock,
      logger: input.logger,
      confirmedEnd: () => this.readConfirmedEnd(),
      knownConfirmedEnd: () => this.confirmedLsn,
    });
    this.gapWatch = new GapWatch({
      walStore: input.walStore,
      backups: input.backups,
      location: { prefix: input.storagePrefix, namespace: input.namespace, policy: input.policy },
      segmentSizeBytes: link.segmentSizeBytes,
      clock: input.clock,
      logger: input.logger,
    });
    this.wake?.();
  }

  /**
   * Makes the slot when missing. A lost slot (`wal_status = lost`: max_slot_wal_keep_size let
   * the server remove WAL the receiver had not received) is dropped and made again, and the
   * spool emptied of segments after it is drained: its position is gone from the server.
   */
  private async checkSlot(link: PrimaryLink): Promise<void> {
    const poll = await pollPrimary(link, this.slot);
    if (poll.slot?.walStatus === 'lost') {
      await this.restartFromNewSlot(
        link,
        `slot ${this.slot} on ${link.where} was invalidated (wal_status lost): the primary removed WAL the receiver had not received`,
      );
      return;
    }
    if (await ensureSlot(link, this.slot)) {
      this.input.logger.info({ slot: this.slot, primary: link.where }, 'made the replication slot');
    }
    this.lastPoll = await pollPrimary(link, this.slot);
  }

  private async restartFromNewSlot(link: PrimaryLink, why: string): Promise<void> {
    this.slotLostAtMs = this.input.clock();
    this.setState(
      'SlotLost',
      `${why}; streaming restarts from a new slot and the missing WAL is reported as a gap. Raise max_slot_wal_keep_size on the server, or keep the receiver running, to avoid it`,
    );
    this.archivedAtSlotLoss = undefined;
    await this.uploadPass(true).catch((error: unknown) =>
      this.input.logger.warn({ err: error }, 'could not store the spool before restarting it'),
    );
    this.archivedAtSlotLoss = this.uploader?.archived?.lsn ?? 0n;
    await dropWalSlot(link.client, this.slot);
    if (this.uploader !== undefined) {
      await clearSpoolSegments(this.layout.walDir, link.segmentSizeBytes);
    }
    await ensureSlot(link, this.slot);
    this.confirmedLsn = undefined;
    this.lastPoll = await pollPrimary(link, this.slot);
  }

  private async pollWhileStreaming(
    link: PrimaryLink,
    process: ReceiveWalProcess,
  ): Promise<ReceiveWalExit> {
    let exited: ReceiveWalExit | undefined;
    void process.exited.then((exit) => {
      exited = exit;
      this.wake?.();
    });
    const { signal } = this.input;
    while (exited === undefined && !signal.aborted) {
      const lost = await this.pollOnce(link);
      if (lost || link.broken()) {
        process.stop();
        break;
      }
      await Promise.race([pause(POLL_INTERVAL_MS, signal), process.exited]);
    }
    if (exited === undefined) process.stop();
    const timer = setTimeout(() => process.kill(), 10_000);
    try {
      return await process.exited;
    } finally {
      clearTimeout(timer);
    }
  }

  /** One poll of the primary; true when the slot was lost meanwhile. */
  private async pollOnce(link: PrimaryLink): Promise<boolean> {
    try {
      const poll = await pollPrimary(link, this.slot);
      this.lastPoll = poll;
      this.lag.samplePrimary(poll.currentLsn, this.input.clock());
      if (poll.confirmedLsn !== undefined) this.confirmedLsn = poll.confirmedLsn;
      // Streaming once pg_receivewal holds the slot (it may yet fail to log in until then).
      const waiting = ['Starting', 'NoPrimary', 'Lagging'].includes(this.state);
      if (waiting && poll.slot?.active === true) {
        this.setState('Streaming', `streaming from ${link.where}`);
      }
      return poll.slot?.walStatus === 'lost';
    } catch (error) {
      this.input.logger.warn({ err: error, primary: link.where }, 'the primary did not answer');
      return true;
    }
  }

  private async afterExit(exit: ReceiveWalExit): Promise<void> {
    if (exit.reason !== 'stopped') {
      this.input.logger.warn({ reason: exit.reason, status: exit.status }, exit.message);
    }
    const link = this.link;
    if (exit.reason === 'segment-removed' && link !== undefined && !link.broken()) {
      await this.restartFromNewSlot(
        link,
        `${link.where} no longer has the WAL the spool resumes from (${exit.stderr.match(/requested WAL segment \S+/)?.[0] ?? 'a removed segment'})`,
      ).catch((error: unknown) => this.setState('SlotLost', messageOf(error)));
      return;
    }
    if (exit.reason === 'connection' || exit.reason === 'not-primary' || link?.broken() === true) {
      // The primary went away (or is one no longer): find the primary again.
      await this.link?.end();
      this.link = undefined;
      this.setState('NoPrimary', exit.message);
      return;
    }
    switch (exit.reason) {
      case 'stopped':
        // Stopped by the receiver itself (a lost slot, a poll that failed): the next round looks.
        return;
      case 'spool-full':
        this.setState('Lagging', exit.message);
        return;
      case 'slot-active':
        await this.takeOverSlot();
        if (this.state === 'Streaming') this.setState('Starting', exit.message);
        return;
      case 'slot-missing':
        if (this.state === 'Streaming') this.setState('Starting', exit.message);
        return;
      default:
        // A primary that refuses to stream (a login, a privilege, no free WAL sender).
        this.setState('NoPrimary', exit.message);
    }
  }

  /**
   * The slot stays held by another walsender: most likely the pg_receivewal of a receiver that
   * was killed without it (it streams on into the spool until its next message fails). After
   * {@link SLOT_TAKEOVER_ATTEMPTS} refusals in a row, its walsender is terminated; with
   * `--no-loop` that pg_receivewal exits, and this receiver's takes the slot.
   */
  private async takeOverSlot(): Promise<void> {
    this.slotActiveExits += 1;
    const link = this.link;
    if (this.slotActiveExits < SLOT_TAKEOVER_ATTEMPTS || link === undefined) return;
    this.slotActiveExits = 0;
    try {
      const result = await link.client.query<{ pid: number }>(
        'SELECT active_pid AS pid FROM pg_replication_slots WHERE slot_name = $1 AND active AND pg_terminate_backend(active_pid)',
        [this.slot],
      );
      const pid = result.rows[0]?.pid;
      if (pid !== undefined) {
        this.input.logger.warn(
          { slot: this.slot, walsenderPid: pid },
          'terminated the walsender that held the slot (a receiver that died without its pg_receivewal?)',
        );
      }
    } catch (error) {
      this.input.logger.warn(
        { err: error, slot: this.slot },
        `cannot free slot ${this.slot}: stop the process that streams from it, or grant the role of spec.target.credentials pg_signal_backend`,
      );
    }
  }

  /** The slot's restart_lsn, read now when the primary answers, else the last one seen. */
  private async readConfirmedEnd(): Promise<bigint | undefined> {
    const link = this.link;
    if (link !== undefined && !link.broken()) {
      const poll = await pollPrimary(link, this.slot).catch(() => undefined);
      if (poll?.confirmedLsn !== undefined) this.confirmedLsn = poll.confirmedLsn;
    }
    return this.confirmedLsn;
  }

  // Uploading ---------------------------------------------------------------------------

  /** Runs `work` with the uploader, one at a time (the stream loop drains it too). */
  private withUploader<T>(work: (uploader: WalUploader) => Promise<T>): Promise<T | undefined> {
    const uploader = this.uploader;
    if (uploader === undefined) return Promise.resolve(undefined);
    const next = this.uploadLock.then(() => work(uploader));
    this.uploadLock = next.catch(() => undefined);
    return next;
  }

  private async uploadLoop(): Promise<void> {
    let backoffMs = BACKOFF_MIN_MS;
    while (!this.streamingEnded) {
      const woken = new Promise<void>((resolve) => {
        this.wake = resolve;
      });
      try {
        await this.uploadPass(false);
        backoffMs = BACKOFF_MIN_MS;
        await this.pruneWhenDue();
        // pg_receivewal writes often: a pass at most every 100 ms, whatever the spool's events.
        await sleep(MIN_PASS_INTERVAL_MS);
        await Promise.race([woken, sleep(POLL_INTERVAL_MS)]);
      } catch (error) {
        this.uploadError = messageOf(error);
        this.input.logger.warn({ err: error, retryInMs: backoffMs }, 'could not store WAL');
        // Not woken by the spool's changes (they go on while the bucket fails), only by the stop.
        await Promise.race([this.streamingDone, sleep(backoffMs)]);
        backoffMs = Math.min(backoffMs * 2, UPLOAD_BACKOFF_MAX_MS);
      }
    }
  }

  /**
   * Applies WAL retention once an interval: what the window no longer needs goes from the
   * bucket (and from what the uploader knows of it). A failure is logged and tried next time.
   */
  private async pruneWhenDue(): Promise<void> {
    const now = this.input.clock();
    if (now - this.lastPruneMs < PRUNE_INTERVAL_MS || !this.bucketLoaded) return;
    this.lastPruneMs = now;
    const { input } = this;
    try {
      const report = await this.withUploader(async (uploader) => {
        const done = await pruneWal({
          walStore: input.walStore,
          backups: input.backups,
          policy: {
            prefix: input.storagePrefix,
            namespace: input.namespace,
            policy: input.policy,
            windowMs: input.windowMs,
          },
          nowMs: now,
          segmentSize: this.segmentSizeBytes,
        });
        for (const name of done.deletions) uploader.stored.delete(name);
        return done;
      });
      if (report !== undefined && report.deletions.length > 0) {
        input.logger.info(
          { deleted: report.deletions.length, deletedBytes: report.deletedBytes },
          'deleted WAL older than the window needs',
        );
      }
    } catch (error) {
      input.logger.warn({ err: error }, 'could not apply WAL retention; trying again in an hour');
    }
  }

  private async uploadPass(flushPartial: boolean): Promise<number> {
    const result = await this.withUploader(async (uploader) => {
      if (!this.bucketLoaded) {
        await uploader.loadBucket();
        this.bucketLoaded = true;
      }
      return uploader.pass(flushPartial);
    });
    if (result === undefined) return 0;
    this.uploadError = undefined;
    this.pendingBytes = result.pendingBytes;
    if (result.stored.length > 0 || this.gap !== undefined || this.slotLostAtMs !== undefined) {
      await this.checkGap();
    }
    return result.pendingBytes;
  }

  private async checkGap(): Promise<void> {
    const { uploader, gapWatch } = this;
    if (uploader === undefined || gapWatch === undefined) return;
    const gap = await gapWatch.check(uploader.stored);
    this.gap = gap;
    if (gap !== undefined) {
      this.slotLostAtMs = undefined;
      this.archivedAtSlotLoss = undefined;
      // Without a primary, NoPrimary says more; the gap is in the status all the same.
      if (this.state === 'NoPrimary') return;
      this.setState(
        'Gap',
        `WAL ${formatLsn(gap.fromLsn)} to ${formatLsn(gap.toLsn)} of timeline ${gap.timeline} is missing from the bucket: instants in it cannot be restored until a binary backup that starts after it is committed`,
      );
      return;
    }
    if (this.slotLostAtMs !== undefined) {
      // Until WAL from the new slot is stored past the old end, the gap cannot show yet
      // (undefined: the old spool is still being stored).
      const lostAt = this.archivedAtSlotLoss;
      if (lostAt === undefined || (uploader.archived?.lsn ?? 0n) <= lostAt) return;
      this.slotLostAtMs = undefined;
      this.archivedAtSlotLoss = undefined;
      this.setState('Streaming', 'streaming from a new slot; no WAL is missing from the bucket');
      return;
    }
    if (this.state === 'Gap') {
      this.setState(
        'Streaming',
        'streaming; the gap is cleared by a binary backup that starts after it',
      );
    }
  }

  /** On stop: everything the spool holds goes to the bucket, the partial included (bounded). */
  private async drain(): Promise<void> {
    const deadlineMs = this.input.clock() + (this.input.drainTimeoutMs ?? 45_000);
    while (this.uploader !== undefined && this.input.clock() < deadlineMs) {
      try {
        const pending = await this.uploadPass(true);
        if (pending === 0) return;
      } catch (error) {
        this.uploadError = messageOf(error);
        this.input.logger.warn({ err: error }, 'could not store WAL while stopping; retrying');
      }
      await sleep(BACKOFF_MIN_MS);
    }
    if (this.uploader !== undefined) {
      this.input.logger.warn(
        { pendingBytes: this.pendingBytes },
        'stopped with WAL on the spool not yet in the bucket; the next receiver uploads it',
      );
    }
  }

  // Reporting ---------------------------------------------------------------------------

  private setState(state: ContinuousState, message: string): void {
    const changed = state !== this.state || message !== this.message;
    this.state = state;
    this.message = message;
    if (changed) {
      this.loggedState = state;
      this.input.logger.info({ state }, message);
      void this.writeStatus(false);
    }
  }

  private async reportLoop(): Promise<void> {
    const intervalMs = this.input.statusIntervalMs ?? 10_000;
    while (!this.input.signal.aborted) {
      this.lastReportMs = this.input.clock();
      await this.writeStatus(true);
      await pause(intervalMs, this.input.signal);
    }
  }

  /** The state to report: a failing bucket or a long lag turns Streaming into Lagging. */
  private effectiveState(lagSeconds: number | undefined): {
    state: ContinuousState;
    message: string;
  } {
    if (this.state !== 'Streaming') return { state: this.state, message: this.message };
    if (this.uploadError !== undefined) {
      return { state: 'Lagging', message: `cannot store WAL in the bucket: ${this.uploadError}` };
    }
    const limitSeconds = (2 * this.input.uploadIntervalMs) / 1000;
    if (lagSeconds !== undefined && lagSeconds > limitSeconds) {
      return {
        state: 'Lagging',
        message: `the bucket is ${Math.round(lagSeconds)} s behind the primary (more than twice spec.continuous.uploadInterval)`,
      };
    }
    return { state: this.state, message: this.message };
  }

  /** The status now. */
  statusNow(): ContinuousStatus {
    const now = this.input.clock();
    const archived = this.uploader?.archived;
    const lag = this.lag.lagAt(archived?.lsn, now);
    const { state, message } = this.effectiveState(lag?.seconds);
    const slot = this.lastPoll?.slot;
    return {
      state,
      message: message.slice(0, 4096),
      ...(archived === undefined
        ? {}
        : {
            timeline: archived.timeline,
            lastArchived: {
              file: archived.file,
              lsn: formatLsn(archived.lsn),
              time: new Date(archived.timeMs).toISOString(),
            },
          }),
      ...(lag === undefined
        ? {}
        : { lagBytes: lag.bytes, lagSeconds: Math.round(lag.seconds * 10) / 10 }),
      spoolBytes: this.pendingBytes,
      slot: {
        name: this.slot,
        ...walStatusOf(slot?.walStatus),
        ...(slot === undefined ? {} : { retainedBytes: slot.retainedBytes }),
      },
      ...(this.gap === undefined
        ? {}
        : {
            gap: {
              timeline: this.gap.timeline,
              fromLsn: formatLsn(this.gap.fromLsn),
              toLsn: formatLsn(this.gap.toLsn),
              detectedAt: new Date(this.gap.detectedAtMs).toISOString(),
            },
          }),
      heartbeatTime: new Date(now).toISOString(),
    };
  }

  /** Writes the status to every sink; a failing sink is logged, never fatal. */
  private async writeStatus(periodic: boolean): Promise<void> {
    const pending = await this.uploader?.spoolPendingBytes().catch(() => undefined);
    if (pending !== undefined) this.pendingBytes = pending;
    const status = this.statusNow();
    this.input.metrics?.update(status);
    // A state the figures decide (Lagging from Streaming, and back) is logged here.
    if (status.state !== this.loggedState) {
      this.loggedState = status.state;
      this.input.logger.info({ state: status.state }, status.message ?? '');
    }
    const key = `${status.state}\n${status.message}`;
    if (!periodic && key === this.lastWritten) return;
    this.lastWritten = key;
    for (const sink of this.input.sinks) {
      await sink
        .write(status)
        .catch((error: unknown) =>
          this.input.logger.warn({ err: error }, 'could not write the status'),
        );
    }
  }
}
