/**
 * `pgbackup restore --target-time | --target-lsn | --target-latest`: a binary backup restored
 * and set up to recover from the bucket's WAL to the target (DESIGN.md §3, §5).
 *
 * Before anything is downloaded of the backup, the bucket's WAL is read for continuity, the
 * newest committed binary backup that ends at or before the target is chosen, and the newest
 * commit recovery can reach from it is read from the last WAL segments (`pg_waldump`): a
 * target past it, or after a gap, is refused with the latest reachable instant. Then the
 * backup is restored as `pgbackup restore` restores one, and the recovery settings are
 * written: `restore_command` (`pgbackup wal-fetch %f %p -f <policy copy>`), the target,
 * `recovery_target_action`, `recovery_target_timeline = 'latest'`, `recovery.signal`.
 *
 * What `wal-fetch` needs to reach the bucket lives beside the data directory (never inside
 * it, where the restored server's next backup would copy it): `<target>.pgbackup-recovery/`,
 * mode 0700, holding the policy (`policy.yaml`) and, when the restore had S3 keys, an AWS
 * shared credentials file (`credentials`), both 0600. The command line names only paths.
 *
 * An encrypted policy's backup and WAL are read with the identity file given (`--identity`):
 * it is checked against the chosen backup's manifest and the metadata of the first and last
 * WAL recovery replays before anything is downloaded, and `restore_command` names its path
 * (never its contents) for wal-fetch, so the file must stay readable by the server's user
 * until recovery has ended.
 */
import { access, appendFile, chmod, mkdir, writeFile } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join } from 'node:path';
import type { Logger } from 'pino';
import { stringify } from 'yaml';
import type { BackupPolicy } from '../api/index.js';
import {
  assessWalContinuity,
  timelineAt,
  type WalContinuity,
} from '../retention/wal-continuity.js';
import {
  DEFAULT_WAL_SEGMENT_SIZE,
  formatLsn,
  segmentFileName,
  segmentOf,
} from '../retention/wal-names.js';
import type { PolicyBackups } from '../runner/backup-choice.js';
import { RunError } from '../runner/errors.js';
import {
  type BinaryRestoreOutcome,
  RestoreFailedError,
  restoreBinaryBackup,
} from '../runner/restore-binary.js';
import { inspectRestoreTarget } from '../runner/restore-data-dir.js';
import { majorOf } from '../runner/verify-restore.js';
import { type CatalogEntry, policyKeyPrefix, type WalStore } from '../storage/index.js';
import type { ObjectDownloader } from '../storage/object-download.js';
import { type BucketWal, readBucketWal } from '../wal/bucket-wal.js';
import { requireWalIdentity, type WalIdentity } from '../wal/fetch-wal.js';
import {
  type BaseBackup,
  chooseBaseBackup,
  describeReach,
  type ReachFacts,
  refuseUnreachable,
} from './base-backup-choice.js';
import { type RecoveryTarget, recoverySettingsText, shellQuote } from './recovery-target.js';
import { findNewestCommit } from './wal-commit-times.js';

/** S3 keys `wal-fetch` will use, written to the credentials file. */
export interface RecoveryKeys {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string | undefined;
}

/** The identity file of an encrypted policy, as `--identity FILE` loaded it. */
export interface RecoveryIdentity extends WalIdentity {
  /** Absolute: restore_command passes it to wal-fetch. */
  readonly path: string;
}

/** What {@link restoreToTarget} needs. */
export interface PointInTimeRestoreInput extends PolicyBackups {
  readonly policyObject: BackupPolicy;
  readonly walStore: WalStore;
  readonly downloader: ObjectDownloader;
  readonly target: RecoveryTarget;
  readonly pause: boolean;
  readonly targetDir: string;
  readonly workDir: string;
  readonly pgRoot: string | undefined;
  readonly uid: number | undefined;
  readonly logger: Logger;
  /** The keys the restore reached the bucket with; undefined: the server's environment must have some. */
  readonly keys: RecoveryKeys | undefined;
  /** How to run this pgbackup: `[node, ...flags, script]`. */
  readonly selfCommand: readonly string[];
  /** Paths passed on to wal-fetch's environment (e.g. NODE_EXTRA_CA_CERTS), never secrets. */
  readonly passEnv: Readonly<Record<string, string>>;
  readonly segmentSize?: number;
  /**
   * Decrypts an encrypted policy's backup (the downloader holds it too) and WAL; plain ones
   * need none.
   */
  readonly identity?: RecoveryIdentity | undefined;
  /**
   * Where wal-fetch's bucket access goes (mode 0700); default `<target>.pgbackup-recovery`
   * beside the data directory. A restore into a claim keeps it off the claim.
   */
  readonly recoveryDir?: string;
}

/** A finished point-in-time restore. */
export interface PointInTimeRestoreOutcome {
  readonly restore: BinaryRestoreOutcome;
  readonly backup: BaseBackup;
  readonly facts: ReachFacts;
  readonly target: RecoveryTarget;
  readonly recoveryDir: string;
  readonly restoreCommand: string;
  /** The WAL files read to find the newest commit. */
  readonly walFilesRead: readonly string[];
}

const PROFILE = 'pgbackup-restore';

async function pgWaldumpOf(entry: CatalogEntry, pgRoot: string | undefined): Promise<string> {
  const major = majorOf(entry.manifest);
  const path = join(pgRoot ?? '/usr/lib/postgresql', String(major), 'bin', 'pg_waldump');
  try {
    await access(path);
  } catch {
    throw new RunError(
      `no pg_waldump for PostgreSQL ${major} at ${path}: a point-in-time restore reads the commit times of the archived WAL with it; install PostgreSQL ${major}'s server package, or point --pg-root at a directory holding ${major}/bin/pg_waldump`,
    );
  }
  return path;
}

/**
 * Refuses, before anything is downloaded, an identity that cannot read what recovery from
 * `backup` needs: the backup (its manifest's recipients) and the first and last WAL segment
 * replay reads (their objects' `recipients` metadata, when encrypted).
 *
 * @throws WrongIdentityError naming the recipients and what to give
 */
export async function requireReplayIdentity(
  input: Pick<PointInTimeRestoreInput, 'downloader' | 'walStore' | 'identity'>,
  facts: {
    readonly backup: BaseBackup;
    readonly continuity: WalContinuity;
    readonly wal: BucketWal;
    readonly segmentSize: number;
  },
): Promise<void> {
  const { backup, continuity, segmentSize } = facts;
  input.downloader.requireIdentity(backup.entry);
  const boundaries = [backup.stopLsn, backup.reach.reachableLsn - 1n].map((lsn) =>
    segmentFileName(timelineAt(continuity.path, lsn), segmentOf(lsn, segmentSize), segmentSize),
  );
  await requireWalIdentity({
    store: input.walStore,
    names: facts.wal.objects.map((object) => object.name),
    requested: boundaries,
    identity: input.identity,
    segmentSize,
  });
}

/** Chooses the backup and checks the target, downloading nothing of the backup. */
async function plan(input: PointInTimeRestoreInput) {
  const segmentSize = input.segmentSize ?? DEFAULT_WAL_SEGMENT_SIZE;
  const wal = await readBucketWal(input.walStore, segmentSize);
  const continuity: WalContinuity = assessWalContinuity({
    files: wal.entries,
    histories: wal.histories,
    segmentSize,
  });
  const prefix = policyKeyPrefix({ ...input, type: 'binary' });
  const entries = await input.store.listBackups(prefix);
  const where = `BackupPolicy ${input.namespace}/${input.policy} in ${input.store.description}`;
  const backup = chooseBaseBackup(entries, continuity, input.target, where);
  if (typeof backup === 'string') throw new RunError(`${backup}. Nothing was downloaded`);
  await requireReplayIdentity(input, { backup, continuity, wal, segmentSize });
  const scan = await findNewestCommit({
    store: input.walStore,
    path: continuity.path,
    fromLsn: backup.stopLsn,
    toLsn: backup.reach.reachableLsn,
    segmentSize,
    pgWaldump: await pgWaldumpOf(backup.entry, input.pgRoot),
    workDir: input.workDir,
    identity: input.identity,
  });
  const facts: ReachFacts = {
    backup,
    newestCommit: scan.newestCommit,
    lastRecordLsn: scan.lastRecordLsn,
  };
  const refusal = refuseUnreachable(input.target, facts);
  if (refusal !== undefined) {
    throw new RunError(
      `${refusal}. Nothing of the backup was downloaded and ${input.targetDir} was not touched`,
    );
  }
  return { backup, facts, filesRead: scan.filesRead };
}

function restoreCommandOf(input: PointInTimeRestoreInput, recoveryDir: string): string {
  const env = Object.entries(input.passEnv).map(([name, value]) => `${name}=${shellQuote(value)}`);
  if (input.keys !== undefined) {
    env.push(`AWS_SHARED_CREDENTIALS_FILE=${shellQuote(join(recoveryDir, 'credentials'))}`);
    env.push(`AWS_CONFIG_FILE=${shellQuote(join(recoveryDir, 'aws-config'))}`);
    env.push(`AWS_PROFILE=${PROFILE}`);
  }
  const command = [
    ...input.selfCommand.map(shellQuote),
    'wal-fetch',
    '%f',
    '%p',
    '-f',
    shellQuote(join(recoveryDir, 'policy.yaml')),
    ...(input.identity === undefined ? [] : ['--identity', shellQuote(input.identity.path)]),
  ];
  return [...env, ...command].join(' ');
}

/** The policy as wal-fetch reads it: its name, namespace and spec (no cluster fields). */
function policyCopyOf(input: PointInTimeRestoreInput): string {
  const { policyObject } = input;
  return stringify({
    apiVersion: policyObject.apiVersion,
    kind: policyObject.kind,
    metadata: { name: input.policy, namespace: input.namespace },
    spec: policyObject.spec,
  });
}

function credentialsFileOf(keys: RecoveryKeys): string {
  const lines = [
    `[${PROFILE}]`,
    `aws_access_key_id = ${keys.accessKeyId}`,
    `aws_secret_access_key = ${keys.secretAccessKey}`,
  ];
  if (keys.sessionToken !== undefined) lines.push(`aws_session_token = ${keys.sessionToken}`);
  return `${lines.join('\n')}\n`;
}

async function writePrivate(path: string, text: string): Promise<void> {
  await writeFile(path, text, { mode: 0o600 });
  await chmod(path, 0o600);
}

/** Writes the recovery settings into the restored data directory and the access beside it. */
async function writeRecovery(
  input: PointInTimeRestoreInput,
  backup: BaseBackup,
): Promise<{ recoveryDir: string; restoreCommand: string }> {
  const recoveryDir =
    input.recoveryDir ??
    join(dirname(input.targetDir), `${basename(input.targetDir)}.pgbackup-recovery`);
  await mkdir(recoveryDir, { recursive: true, mode: 0o700 });
  await chmod(recoveryDir, 0o700);
  await writePrivate(join(recoveryDir, 'policy.yaml'), policyCopyOf(input));
  if (input.keys !== undefined) {
    await writePrivate(join(recoveryDir, 'credentials'), credentialsFileOf(input.keys));
    await writePrivate(join(recoveryDir, 'aws-config'), `[profile ${PROFILE}]\n`);
  }
  const restoreCommand = restoreCommandOf(input, recoveryDir);
  const settings = recoverySettingsText({
    target: input.target,
    restoreCommand,
    pause: input.pause,
    comment: `point-in-time recovery written by pgbackup restore from ${backup.entry.key}`,
  });
  await appendFile(join(input.targetDir, 'postgresql.auto.conf'), `\n${settings}`, { mode: 0o600 });
  await writeFile(join(input.targetDir, 'recovery.signal'), '', { mode: 0o600 });
  return { recoveryDir, restoreCommand };
}

/**
 * Restores the backup a target needs and sets the data directory up to recover to it.
 *
 * @throws RunError before anything of the backup is downloaded: the target directory cannot
 *   take a restore, no backup ends before the target, the target is beyond the archived WAL
 *   or after a gap (the message names the latest reachable instant)
 * @throws RestoreFailedError when the restore or the recovery settings failed once started
 * @throws StorageError when the bucket cannot be read
 */
export async function restoreToTarget(
  input: PointInTimeRestoreInput,
): Promise<PointInTimeRestoreOutcome> {
  await inspectRestoreTarget(input.targetDir, input.uid);
  if (input.identity !== undefined && !isAbsolute(input.identity.path)) {
    throw new RunError(
      `the identity file ${input.identity.path} is not an absolute path: restore_command runs in the data directory, so give --identity an absolute path. Nothing was downloaded`,
    );
  }
  const { backup, facts, filesRead } = await plan(input);
  input.logger.info(
    {
      key: backup.entry.key,
      stopLsn: formatLsn(backup.stopLsn),
      reachableLsn: formatLsn(backup.reach.reachableLsn),
    },
    `restoring for point-in-time recovery: ${describeReach(facts)}`,
  );
  const restore = await restoreBinaryBackup({
    ...input,
    choice: { key: backup.entry.key },
  });
  try {
    const { recoveryDir, restoreCommand } = await writeRecovery(input, backup);
    return {
      restore,
      backup,
      facts,
      target: input.target,
      recoveryDir,
      restoreCommand,
      walFilesRead: filesRead,
    };
  } catch (error) {
    throw new RestoreFailedError(
      `restored ${backup.entry.key} into ${input.targetDir}, but could not write its recovery settings: ${(error as Error).message}; the data directory is left as restored (without recovery.signal it starts at the backup's end)`,
      { cause: error },
    );
  }
}
