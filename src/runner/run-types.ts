/** What every run (binary or logical) gets and gives back. */
import type { Logger } from 'pino';
import type { BackupPolicySpec, LineName } from '../api/index.js';
import type { Credentials, Endpoint } from '../postgres/index.js';
import type { ArtifactStore, BackupManifest } from '../storage/index.js';
import type { ResolvedRecipients } from './encryption-recipients.js';

/** The local copy of daily binary backups. */
export interface LocalCopy {
  readonly store: ArtifactStore;
  readonly keep: number;
}

/** Everything a run needs, resolved by the CLI (from a file or the cluster). */
export interface RunInput {
  readonly namespace: string;
  readonly policy: string;
  readonly spec: BackupPolicySpec;
  /** Omitted: an on-demand backup, which belongs to no line and is never pruned. */
  readonly line: LineName | undefined;
  /**
   * When the run was triggered (the CronJob's scheduled time, a hand-made Job's creation
   * time, file mode's `--at` or start): the period and lateness are decided from it, never
   * from when the run got its turn, and it names the backup's key.
   */
  readonly triggeredAtMs: number;
  /** What a person runs to take a backup now instead of a refused one, for messages. */
  readonly onDemandCommand: string;
  /**
   * The Lease the run holds (in a cluster): the one lock that counts. Absent (file mode), the
   * run takes an advisory lock on the server it backs up instead.
   */
  readonly fence?: RunFence | undefined;
  readonly endpoints: readonly Endpoint[];
  /** How the endpoints were found, for messages. */
  readonly selection: string;
  readonly credentials: Credentials;
  readonly remote: ArtifactStore;
  /**
   * The policy's recipients (`spec.storage.encryption`), resolved; undefined when the policy
   * stores objects plain. Required, so that no way of starting a run can forget it.
   */
  readonly encryption: ResolvedRecipients | undefined;
  /** Present when the policy keeps a local copy and this run is a daily binary one. */
  readonly local?: LocalCopy | undefined;
  /** Root of the PostgreSQL tools, `<root>/<major>/bin`. */
  readonly pgRoot?: string | undefined;
  readonly logger: Logger;
  readonly clock: () => number;
  /**
   * The run's deadline (its Job's `activeDeadlineSeconds`), from which clean-up knows what
   * only a dead run can have left; omitted, the default the controller renders Jobs with.
   */
  readonly runDeadlineSeconds?: number | undefined;
}

/** A lock with fencing: a run that lost it must not commit. */
export interface RunFence {
  /** Aborted once the run may have lost the lock: its streams stop. */
  readonly signal: AbortSignal;
  /**
   * Proves the run still holds the lock, for long enough to commit; asked right before the
   * manifest is written.
   *
   * @throws an Error saying who holds it or why it could not be proven
   */
  assertHeld(): Promise<void>;
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
  /** Something a person should know about how the backup was taken (a fallback). */
  readonly note?: string | undefined;
}

/** What a run did. */
export type RunResult = RunSkippedResult | RunCompletedResult;
