/**
 * The point-in-time drill's restore (src/runner/verify-point-in-time.ts): which backup and
 * which instant, from the bucket's WAL, and the restore itself with src/restore, the same code
 * as `pgbackup restore --target-time`. Wired here because the runner may not import
 * src/restore (which imports the runner).
 *
 * The instant: the commit time of the second-newest transaction end (commit or abort record)
 * the archived WAL holds after the newest binary backup, the newest one being the proof that
 * recovery stopped there (a time target needs a later transaction to stop before). It
 * exercises all the WAL archived since the backup, which a restore after losing the primary
 * would need, and is deterministic for a given bucket.
 *
 * An encrypted policy's drill reads with the identity file the drill's pod mounts: one that
 * the backup's manifest or the WAL's metadata does not name makes the plan unusable (the
 * drill fails naming the recipients) before anything is downloaded.
 */
import type { Logger } from 'pino';
import { WrongIdentityError } from '../encryption/index.js';
import { locatePgTool, ToolNotFoundError } from '../postgres/index.js';
import { chooseBaseBackup } from '../restore/base-backup-choice.js';
import {
  type RecoveryIdentity,
  requireReplayIdentity,
  restoreToTarget,
} from '../restore/point-in-time-restore.js';
import { findNewestCommit } from '../restore/wal-commit-times.js';
import { assessWalContinuity, type WalGap } from '../retention/wal-continuity.js';
import {
  DEFAULT_WAL_SEGMENT_SIZE,
  formatLsn,
  segmentFileName,
  segmentOf,
} from '../retention/wal-names.js';
import { RunError } from '../runner/errors.js';
import { describeFailure } from '../runner/record-status.js';
import {
  type DrillPlan,
  isoMicros,
  type PointInTimeBucket,
  type PointInTimeRestorer,
  type TransactionEnd,
} from '../runner/verify-point-in-time.js';
import { majorOf } from '../runner/verify-restore.js';
import { policyKeyPrefix } from '../storage/index.js';
import { readBucketWal } from '../wal/bucket-wal.js';

/** How many transaction ends back the drill looks for two with different commit times. */
const MAX_SAME_TIME_STEPS = 8;

/** What {@link pointInTimeRestorer} needs. */
export interface PointInTimeRestorerInput extends PointInTimeBucket {
  readonly pgRoot: string | undefined;
  readonly uid: number | undefined;
  readonly logger: Logger;
  /** How the restored server runs this pgbackup for wal-fetch. */
  readonly selfCommand: readonly string[];
  /** Paths wal-fetch needs (TLS trust), never secrets. */
  readonly passEnv: Readonly<Record<string, string>>;
  readonly segmentSize?: number;
  /** `--identity FILE`: decrypts an encrypted policy's backup and WAL (the downloader holds it too). */
  readonly identity?: RecoveryIdentity | undefined;
}

/** The segments a gap leaves out: `000000010000000000000005` or `... to ...`. */
export function describeGapSegments(gap: WalGap, segmentSize: number): string {
  const first = segmentOf(gap.fromLsn, segmentSize);
  const last = segmentOf(gap.toLsn - 1n, segmentSize);
  const name = (segment: bigint) => segmentFileName(gap.timeline, segment, segmentSize);
  return first === last ? `segment ${name(first)}` : `segments ${name(first)} to ${name(last)}`;
}

/**
 * The two newest transaction ends before `toLsn` whose commit times differ: `next` the newest,
 * `last` the one before it in WAL order (stepping back over ends that share `next`'s time).
 */
export async function findTargetPair(
  scan: (toLsn: bigint) => Promise<TransactionEnd | undefined>,
  toLsn: bigint,
): Promise<{ last: TransactionEnd; next: TransactionEnd } | undefined> {
  let next = await scan(toLsn);
  for (let step = 0; next !== undefined && step < MAX_SAME_TIME_STEPS; step += 1) {
    const last: TransactionEnd | undefined = await scan(next.lsn);
    if (last === undefined) return undefined;
    if (last.micros < next.micros) return { last, next };
    next = last;
  }
  return undefined;
}

/**
 * Why the newest backup cannot be drilled, found before anything is downloaded: WAL missing
 * after it, or an identity that cannot read it or its WAL (an encrypted policy).
 */
async function refusalBeforeDownload(
  input: PointInTimeRestorerInput,
  facts: Parameters<typeof requireReplayIdentity>[1],
): Promise<string | undefined> {
  const { backup, segmentSize } = facts;
  const { entry, stopLsn, reach } = backup;
  const gap = reach.gaps[0];
  if (gap !== undefined) {
    return `WAL is missing from ${input.walStore.description} after ${entry.key}, which ends at ${formatLsn(stopLsn)}: ${describeGapSegments(gap, segmentSize)} of timeline ${gap.timeline} (${formatLsn(gap.fromLsn)} to ${formatLsn(gap.toLsn)}), so recovery from the backup stops at ${formatLsn(reach.reachableLsn)} and no instant after the gap can be restored. Nothing was downloaded of the backup. Find out why (pgbackup wal-status); a binary backup taken now restores instants after the gap`;
  }
  try {
    await requireReplayIdentity(input, facts);
    return undefined;
  } catch (error) {
    if (!(error instanceof WrongIdentityError)) throw error;
    return error.message;
  }
}

/** The drill's restore for one policy's bucket. */
export function pointInTimeRestorer(input: PointInTimeRestorerInput): PointInTimeRestorer {
  const segmentSize = input.segmentSize ?? DEFAULT_WAL_SEGMENT_SIZE;
  const where = `BackupPolicy ${input.namespace}/${input.policy} in ${input.store.description}`;
  return {
    async plan(workDir: string): Promise<DrillPlan> {
      const wal = await readBucketWal(input.walStore, segmentSize);
      const continuity = assessWalContinuity({
        files: wal.entries,
        histories: wal.histories,
        segmentSize,
      });
      const entries = await input.store.listBackups(policyKeyPrefix({ ...input, type: 'binary' }));
      const backup = chooseBaseBackup(entries, continuity, { kind: 'latest' }, where);
      if (typeof backup === 'string') throw new RunError(backup);
      const { entry, stopLsn, reach } = backup;
      const refusal = await refusalBeforeDownload(input, { backup, continuity, wal, segmentSize });
      if (refusal !== undefined) return { kind: 'unusable', entry, message: refusal };
      const scan = async (toLsn: bigint): Promise<TransactionEnd | undefined> =>
        (
          await findNewestCommit({
            store: input.walStore,
            path: continuity.path,
            fromLsn: stopLsn,
            toLsn,
            segmentSize,
            pgWaldump: await locatePgTool({
              tool: 'pg_waldump',
              major: majorOf(entry.manifest),
              root: input.pgRoot,
            }),
            workDir,
            identity: input.identity,
          })
        ).newestCommit;
      const none = `the archived WAL holds fewer than two transactions after ${entry.key}, which ends at ${formatLsn(stopLsn)} (${entry.manifest.completedAt}), and the point-in-time drill restores to the one before the newest: run it once the database has committed more (the receiver archives within spec.continuous's upload interval)`;
      let pair: Awaited<ReturnType<typeof findTargetPair>>;
      try {
        pair = await findTargetPair(scan, reach.reachableLsn);
      } catch (error) {
        // A damaged segment among the newest: the backup cannot be restored past it.
        if (error instanceof RunError || error instanceof ToolNotFoundError) throw error;
        return {
          kind: 'unusable',
          entry,
          message: `could not read the newest WAL archived after ${entry.key}: ${describeFailure(error)}. Nothing was downloaded of the backup and the bucket was not changed`,
        };
      }
      if (pair === undefined) throw new RunError(none);
      const { last, next } = pair;
      if (last.micros <= backup.endMicros) {
        throw new RunError(
          `the newest transactions archived after ${entry.key} committed at ${isoMicros(last.micros)}, before its manifest's completion (${entry.manifest.completedAt}), from which a point-in-time restore uses it: run the drill once the database has committed more`,
        );
      }
      return { kind: 'ready', entry, last, next };
    },

    async restore(plan, dataDir, workDir): Promise<string> {
      const outcome = await restoreToTarget({
        ...input,
        target: { kind: 'time', micros: plan.last.micros, text: isoMicros(plan.last.micros) },
        pause: false,
        targetDir: dataDir,
        workDir,
        segmentSize,
      });
      return outcome.backup.entry.key;
    },
  };
}
