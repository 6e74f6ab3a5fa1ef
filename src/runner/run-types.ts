/** What every run (binary or logical) gets and gives back. */
import type { Logger } from 'pino';
import type { BackupPolicySpec, LineName } from '../api/index.js';
import type { Credentials, Endpoint } from '../postgres/index.js';
import type { ArtifactStore, BackupManifest } from '../storage/index.js';

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
  /** The instant the period is decided for; omitted, the clock after the lock is acquired. */
  readonly atMs?: number | undefined;
  readonly endpoints: readonly Endpoint[];
  /** How the endpoints were found, for messages. */
  readonly selection: string;
  readonly credentials: Credentials;
  readonly remote: ArtifactStore;
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
