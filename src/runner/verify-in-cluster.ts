/**
 * A restore drill inside a cluster (`pgbackup verify --policy NAMESPACE/NAME`): the policy and
 * its Secrets read with the runner's service account, the drill run on the newest committed
 * binary backup, and its result written into `status.verification` of the `Backup` that
 * recorded that backup (found by its artifact key). A backup with no Backup (the cluster was
 * rebuilt, the Backup deleted) is still verified; the result is then only logged and printed.
 */
import type { Logger } from 'pino';
import type { BackupPolicy, BackupStatus } from '../api/index.js';
import { adoptBackupRecord } from '../kube/backup-record.js';
import type { KubeClient } from '../kube/kube-client.js';
import { RESOURCES, resourcePath } from '../kube/resource.js';
import type { RequestChecksumCalculation } from '../storage/index.js';
import {
  createS3Store,
  createWalStore,
  type S3StoreConfig,
  walKeyPrefix,
} from '../storage/index.js';
import { createObjectDownloader, type ReaderIdentity } from '../storage/object-download.js';
import { createS3Client } from '../storage/s3-client.js';
import { readCredentials, readPolicy, readS3Credentials, s3SpecOf } from './cluster-sources.js';
import { s3StoreConfigOf } from './store-config.js';
import { type VerifyOutcome, verifyNewestBackup } from './verify-backup.js';
import { verifyNewestLogicalBackup } from './verify-logical.js';
import {
  type PointInTimeBucket,
  type PointInTimeRestorerFactory,
  verifyPointInTime,
} from './verify-point-in-time.js';
import { scheduledDrillSkip } from './verify-schedule.js';

/** The longest message `status.verification` holds. */
const VERIFICATION_MESSAGE_MAX = 4096;

/** What {@link verifyInCluster} needs. */
export interface ClusterVerifyInput {
  readonly client: KubeClient;
  readonly namespace: string;
  readonly policy: string;
  /** The CronJob's run: skip the days the schedule's line does not fire on. */
  readonly scheduled: boolean;
  /** The drill to run; undefined: binary, or when scheduled each type the policy enables. */
  readonly type: DrillType | undefined;
  readonly workDir: string;
  readonly pgRoot: string | undefined;
  readonly uid: number | undefined;
  readonly requestChecksumCalculation: RequestChecksumCalculation;
  readonly logger: Logger;
  readonly clock: () => number;
  /** The point-in-time drill's restore (src/restore, which the runner may not import). */
  readonly pointInTimeRestorer: PointInTimeRestorerFactory;
  /**
   * `--identity FILE` (the drill's pod mounts spec.storage.encryption.identity's Secret): the
   * runner's service account never reads the identity Secret through the API.
   */
  readonly identity?: ReaderIdentity | undefined;
}

/**
 * The drills: of the newest binary backup, of the same restored to a point in time with the
 * bucket's WAL, or of the newest logical backup.
 */
export type DrillType = 'binary' | 'point-in-time' | 'logical';

/** One drill's result, and where it was recorded. */
export interface RecordedDrill {
  readonly type: DrillType;
  readonly verification: VerifyOutcome;
  /** The Backup the result was written to; undefined when none records the backup. */
  readonly backup: string | undefined;
}

/**
 * Why a drill of this run is not done, or undefined: the point-in-time drill restores the
 * backup the binary drill just checked and records its result on the same Backup, so after a
 * failed binary drill it would only overwrite that failure (a status holds one verification).
 */
export function skipReasonOf(
  type: DrillType,
  done: readonly Pick<RecordedDrill, 'type' | 'verification'>[],
): string | undefined {
  const failedBinary = done.find(
    (drill) => drill.type === 'binary' && drill.verification.result === 'Failed',
  );
  if (type !== 'point-in-time' || failedBinary === undefined) return undefined;
  return `the point-in-time drill is skipped: the binary drill of the same backup (${failedBinary.verification.key}) failed, and its result stays recorded on the Backup`;
}

/** What an in-cluster drill did. */
export type ClusterVerifyResult =
  | { readonly outcome: 'skipped'; readonly message: string }
  | { readonly outcome: 'verified'; readonly drills: readonly RecordedDrill[] };

/** Which backups a policy takes, as {@link drillTypesOf} reads them. */
export interface DrillSpec {
  readonly binary: { readonly enabled: boolean };
  readonly logical: { readonly enabled: boolean };
  readonly continuous?: { readonly enabled: boolean } | undefined;
}

/**
 * The drills a run does: the one asked for; else, for the CronJob's run, each type the policy
 * enables (binary first, then point-in-time when binary backups and spec.continuous are
 * enabled, then logical; binary when it enables neither kind of backup); else binary.
 */
export function drillTypesOf(
  spec: DrillSpec,
  type: DrillType | undefined,
  scheduled: boolean,
): DrillType[] {
  if (type !== undefined) return [type];
  if (!scheduled) return ['binary'];
  const enabled: DrillType[] = [];
  if (spec.binary.enabled) enabled.push('binary');
  if (spec.binary.enabled && spec.continuous?.enabled === true) enabled.push('point-in-time');
  if (spec.logical.enabled) enabled.push('logical');
  return enabled.length === 0 ? ['binary'] : enabled;
}

interface BackupListItem {
  metadata: { name: string };
  spec?: { policy?: string; type?: string };
  status?: { artifact?: { key?: string } };
}

/** The Backup whose artifact is the backup at `key`, if any. */
async function findBackupName(
  input: ClusterVerifyInput,
  type: DrillType,
  key: string,
): Promise<string | undefined> {
  const list = await input.client.request<{ items: BackupListItem[] }>({
    verb: 'list',
    path: resourcePath(RESOURCES.backup, { namespace: input.namespace }),
    what: `list the Backups in namespace ${input.namespace}`,
  });
  // The point-in-time drill restores a binary backup.
  const backupType = type === 'logical' ? 'logical' : 'binary';
  return list.items.find(
    (backup) =>
      backup.spec?.policy === input.policy &&
      backup.spec.type === backupType &&
      backup.status?.artifact?.key === key,
  )?.metadata.name;
}

/** The policy's bucket: backups and WAL, and the keys wal-fetch needs for the point-in-time drill. */
async function storesOf(input: ClusterVerifyInput, policy: BackupPolicy) {
  const s3 = s3SpecOf(input, policy);
  const credentials = await readS3Credentials(input.client, input.namespace, policy);
  const config = s3StoreConfigOf(s3, credentials, input.requestChecksumCalculation);
  const store = createS3Store(config);
  const walStore = createWalStore(
    config,
    walKeyPrefix({ prefix: s3.prefix, namespace: input.namespace, policy: input.policy }),
  );
  return {
    prefix: s3.prefix,
    store,
    walStore,
    downloader: createObjectDownloader(store, input.identity),
    keys: credentials.keys ?? (await resolvedKeysOf(config)),
  };
}

/**
 * The keys the AWS SDK's chain gives the drill (a role for the service account, say), for
 * wal-fetch: the restored server runs it with no AWS variables in its environment.
 */
async function resolvedKeysOf(config: S3StoreConfig): Promise<PointInTimeBucket['keys']> {
  try {
    const resolved = await createS3Client(config).config.credentials();
    return {
      accessKeyId: resolved.accessKeyId,
      secretAccessKey: resolved.secretAccessKey,
      sessionToken: resolved.sessionToken,
    };
  } catch {
    // None in the chain: wal-fetch will say so when recovery asks for WAL.
    return undefined;
  }
}

/** The verification a Backup's status records; `type` names the drill that checked it. */
export function verificationStatusOf(outcome: VerifyOutcome, type?: DrillType): BackupStatus {
  return {
    verification: {
      result: outcome.result,
      ...(type === undefined ? {} : { type }),
      ...(outcome.target === undefined ? {} : { target: outcome.target }),
      ...(outcome.reached === undefined ? {} : { reached: outcome.reached }),
      time: new Date(outcome.finishedAtMs).toISOString(),
      message: outcome.message.slice(0, VERIFICATION_MESSAGE_MAX),
      ...(outcome.restoreMs === undefined
        ? {}
        : { restoreSeconds: Math.round(outcome.restoreMs / 100) / 10 }),
    },
  };
}

async function record(
  input: ClusterVerifyInput,
  type: DrillType,
  outcome: VerifyOutcome,
): Promise<string | undefined> {
  const name = await findBackupName(input, type, outcome.key);
  if (name === undefined) {
    input.logger.warn(
      { key: outcome.key },
      'no Backup in the namespace records this backup (the cluster may have been rebuilt, or the Backup deleted); the result is not recorded',
    );
    return undefined;
  }
  const { record: backup } = await adoptBackupRecord(input.client, input.namespace, name);
  await backup.update(verificationStatusOf(outcome, type));
  return name;
}

/**
 * Runs the drill of an in-cluster policy and records it.
 *
 * @throws RunError when the drill cannot start (no backup yet, running as root), and errors
 *   of the API or the bucket; a backup that fails the drill is a result, not an error
 */
export async function verifyInCluster(input: ClusterVerifyInput): Promise<ClusterVerifyResult> {
  const policy = await readPolicy(input.client, input.namespace, input.policy);
  if (input.scheduled) {
    const skip = scheduledDrillSkip(policy.spec, input.clock());
    if (skip !== undefined) return { outcome: 'skipped', message: skip };
  }
  const { prefix, store, walStore, downloader, keys } = await storesOf(input, policy);
  const login = await readCredentials(
    input.client,
    input.namespace,
    policy.spec.target.credentials.secretName,
  );
  const common = {
    namespace: input.namespace,
    policy: input.policy,
    prefix,
    store,
    downloader,
    workDir: input.workDir,
    pgRoot: input.pgRoot,
    uid: input.uid,
    logger: input.logger,
    clock: input.clock,
  };
  const drills: RecordedDrill[] = [];
  for (const type of drillTypesOf(policy.spec, input.type, input.scheduled)) {
    const skipped = skipReasonOf(type, drills);
    if (skipped !== undefined) {
      input.logger.warn({ drill: type }, skipped);
      continue;
    }
    // The policy's login is the role most likely to be a superuser of the backup.
    const roles = [login.username, 'postgres'];
    const verification =
      type === 'logical'
        ? await verifyNewestLogicalBackup(common)
        : type === 'point-in-time'
          ? await verifyPointInTime({
              ...common,
              roles,
              restorer: input.pointInTimeRestorer({
                namespace: input.namespace,
                policy: input.policy,
                policyObject: policy,
                prefix,
                store,
                walStore,
                downloader,
                keys,
              }),
            })
          : await verifyNewestBackup({ ...common, roles });
    drills.push({ type, verification, backup: await record(input, type, verification) });
  }
  return { outcome: 'verified', drills };
}
