/**
 * `pgbackup restore ... --target-dir /restore/pgdata --for-restore NAME`: the Job of a
 * `Restore` (render/restore-job.ts). It records Running in the Restore's status, refuses a
 * claim that holds anything (a volume's `lost+found` aside) before it downloads anything,
 * restores as `pgbackup restore` does, runs a point-in-time recovery to its end here
 * (restore-pvc-recovery.ts), and records Succeeded or Failed with the backup restored, where
 * recovery ended and how long it all took. The S3 keys wal-fetch uses live in the pod's /tmp
 * for the recovery's length, never on the claim, in an argument or in the status.
 */
import { readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pino } from 'pino';
import type { RestoreStatus } from '../api/index.js';
import type { KubeClient } from '../kube/kube-client.js';
import { RESOURCES, resourcePath } from '../kube/resource.js';
import { restoreToTarget } from '../restore/point-in-time-restore.js';
import { describeTarget } from '../restore/recovery-target.js';
import { majorOf } from '../runner/verify-restore.js';
import { createS3Store, createWalStore, walKeyPrefix } from '../storage/index.js';
import { createObjectDownloader } from '../storage/object-download.js';
import { withClusterClient } from './cluster-client.js';
import type { CommandIo } from './command.js';
import { loadIdentityOption } from './identity-option.js';
import type { BinaryRestoreArguments } from './restore-arguments.js';
import { restoreBinaryFromArguments } from './restore-binary-command.js';
import { finishRecovery, type RecoveryReached } from './restore-pvc-recovery.js';
import { keysOf, openPolicy, passEnv, selfCommand } from './restore-target-command.js';

/** What a volume's root may hold and still count as empty. */
const VOLUME_LEFTOVERS = new Set(['lost+found']);

/** A refusal or failure the Job records as the Restore's message. */
class RestoreJobError extends Error {
  override readonly name = 'RestoreJobError';
}

interface Restored {
  readonly backup: string;
  readonly reached: RecoveryReached;
  readonly pointInTime: boolean;
}

/** Patches the Restore's status (merge patch: only the fields given change). */
async function recordStatus(
  client: KubeClient,
  namespace: string,
  name: string,
  status: RestoreStatus,
): Promise<void> {
  await client.request({
    verb: 'patch',
    path: resourcePath(RESOURCES.restore, { namespace, name, subresource: 'status' }),
    body: { status },
    contentType: 'application/merge-patch+json',
    what: `record the outcome of Restore ${namespace}/${name}`,
  });
}

async function checkClaimEmpty(mountDir: string, targetDir: string): Promise<void> {
  const found = (await readdir(mountDir)).filter((entry) => !VOLUME_LEFTOVERS.has(entry)).sort();
  if (found.length > 0) {
    const shown = found.slice(0, 5).join(', ') + (found.length > 5 ? ', ...' : '');
    throw new RestoreJobError(
      `the claim is not empty: ${mountDir} holds ${shown}; nothing was downloaded and nothing on the claim was changed. A Restore fills an empty claim (the data directory goes to ${targetDir}): give a new or emptied claim, then create a new Restore`,
    );
  }
}

async function restorePointInTime(
  args: BinaryRestoreArguments,
  namespace: string,
): Promise<Restored> {
  const target = args.recoveryTarget;
  if (target === undefined) throw new Error('a point-in-time restore needs a target');
  const opened = await openPolicy(args.source);
  const name = opened.policy.metadata.name ?? 'unnamed';
  const prefix = opened.policy.spec.storage?.s3.prefix ?? '';
  const store = createS3Store(opened.config);
  const recoveryDir = join(tmpdir(), 'pgbackup-recovery-access');
  // The identity decrypts the backup and, named in restore_command, the WAL.
  const identity = await loadIdentityOption(args.identityFile);
  const outcome = await restoreToTarget({
    namespace,
    policy: name,
    prefix,
    store,
    policyObject: opened.policy,
    walStore: createWalStore(opened.config, walKeyPrefix({ prefix, namespace, policy: name })),
    downloader: createObjectDownloader(store, identity),
    identity,
    target,
    pause: false,
    targetDir: args.targetDir,
    workDir: args.workDir,
    pgRoot: args.pgRoot,
    uid: process.getuid?.(),
    logger: pino({ base: { command: 'restore', policy: name } }, pino.destination(2)),
    keys: await keysOf(opened.config),
    selfCommand: selfCommand(),
    passEnv: passEnv(),
    // The bucket's keys stay in the pod's /tmp (an emptyDir), off the claim.
    recoveryDir,
  });
  try {
    const reached = await finishRecovery({
      dataDir: args.targetDir,
      major: majorOf(outcome.restore.entry.manifest),
      pgRoot: args.pgRoot,
    });
    return { backup: outcome.backup.entry.key, reached, pointInTime: true };
  } catch (error) {
    throw new RestoreJobError(
      `restored ${outcome.backup.entry.key} into ${args.targetDir}, but its recovery to ${describeTarget(target)} did not finish: ${(error as Error).message}\nThe claim holds a data directory that needs pgbackup's restore_command to recover: empty the claim (or use another) and create a new Restore`,
      { cause: error },
    );
  } finally {
    await rm(recoveryDir, { recursive: true, force: true });
  }
}

async function restorePlain(args: BinaryRestoreArguments): Promise<Restored> {
  const outcome = await restoreBinaryFromArguments(args);
  const stopLsn = outcome.entry.manifest.server.stopLsn;
  return {
    backup: outcome.entry.key,
    reached: stopLsn === undefined ? {} : { lsn: stopLsn },
    pointInTime: false,
  };
}

function successMessage(restored: Restored, targetDir: string): string {
  const what = restored.pointInTime
    ? `recovered to ${restored.reached.lastTransactionTime ?? restored.reached.lsn ?? 'the target'} and promoted${restored.reached.timeline === undefined ? '' : ` (timeline ${restored.reached.timeline})`}; the server was stopped cleanly and needs no pgbackup to start`
    : 'it replays the WAL the backup holds when a server first starts on it';
  return `Restored ${restored.backup} into the claim's pgdata (${targetDir}): ${what}. Start PostgreSQL of the backup's major on it: docs/restore-in-cluster.md`;
}

function secondsSince(startMs: number): number {
  return Math.round((Date.now() - startMs) / 100) / 10;
}

/** Runs the Job of a Restore; returns the exit status (1 when the restore failed). */
export async function runRestoreJob(args: BinaryRestoreArguments, io: CommandIo): Promise<number> {
  const name = args.forRestore;
  if (name === undefined || args.source.kind !== 'cluster') {
    throw new Error('the Job of a Restore runs with --policy and --for-restore');
  }
  const { namespace } = args.source;
  const startMs = Date.now();
  const startedAt = new Date(startMs).toISOString();
  return withClusterClient(async (client) => {
    await recordStatus(client, namespace, name, {
      phase: 'Running',
      startedAt,
      message: 'Restoring into the claim.',
    });
    try {
      await checkClaimEmpty(dirname(args.targetDir), args.targetDir);
      const restored =
        args.recoveryTarget === undefined
          ? await restorePlain(args)
          : await restorePointInTime(args, namespace);
      const message = successMessage(restored, args.targetDir);
      const completedAt = new Date().toISOString();
      await recordStatus(client, namespace, name, {
        phase: 'Succeeded',
        message,
        backup: restored.backup,
        reached: restored.reached,
        completedAt,
        restoreSeconds: secondsSince(startMs),
        conditions: [
          {
            type: 'Restored',
            status: 'True',
            reason: 'Restored',
            message,
            lastTransitionTime: completedAt,
          },
        ],
      });
      io.stdout.write(`${message}\n`);
      return 0;
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      const completedAt = new Date().toISOString();
      await recordStatus(client, namespace, name, {
        phase: 'Failed',
        message,
        completedAt,
        restoreSeconds: secondsSince(startMs),
        conditions: [
          {
            type: 'Restored',
            status: 'False',
            reason: 'RestoreFailed',
            message,
            lastTransitionTime: completedAt,
          },
        ],
      });
      io.stderr.write(`pgbackup restore: ${message}\n`);
      return 1;
    }
  });
}
