/**
 * `pgbackup verify`: the restore drill, from a policy file or for an in-cluster policy (whose
 * CronJob `<policy>-verify` runs it). Prints Passed or Failed with what the drill found, and
 * exits 0 or 1 accordingly.
 */
import { pino } from 'pino';
import type { BackupPolicy } from '../api/index.js';
import { s3StoreConfigOf } from '../runner/store-config.js';
import { type VerifyOutcome, verifyNewestBackup } from '../runner/verify-backup.js';
import { verifyInCluster } from '../runner/verify-in-cluster.js';
import { verifyNewestLogicalBackup } from '../runner/verify-logical.js';
import {
  type PointInTimeBucket,
  type PointInTimeRestorerFactory,
  verifyPointInTime,
} from '../runner/verify-point-in-time.js';
import { createS3Store, createWalStore, walKeyPrefix } from '../storage/index.js';
import { createObjectDownloader } from '../storage/object-download.js';
import { withClusterClient } from './cluster-client.js';
import { type Command, type CommandIo, UsageError } from './command.js';
import { type LoadedIdentity, loadIdentityOption } from './identity-option.js';
import { readPolicyFile } from './plan-policy-file.js';
import { keysOf, passEnv, selfCommand } from './restore-target-command.js';
import { requestChecksumFrom } from './run-file-mode.js';
import { parseVerifyArguments, VERIFY_USAGE, type VerifyArguments } from './verify-arguments.js';
import { pointInTimeRestorer } from './verify-point-in-time-restorer.js';

function loggerFor(policy: string) {
  return pino({ base: { command: 'verify', policy } }, pino.destination(2));
}

/** The point-in-time drill's restore, with how the restored server runs this pgbackup. */
function restorerFactory(
  args: VerifyArguments,
  logger: ReturnType<typeof loggerFor>,
  identity: LoadedIdentity | undefined,
): PointInTimeRestorerFactory {
  return (bucket: PointInTimeBucket) =>
    pointInTimeRestorer({
      ...bucket,
      identity,
      pgRoot: args.pgRoot,
      uid: process.getuid?.(),
      logger,
      selfCommand: selfCommand(),
      passEnv: passEnv(),
    });
}

function report(outcome: VerifyOutcome, io: CommandIo, recorded: string): number {
  io.stdout.write(`${outcome.result}: ${outcome.key}\n${outcome.message}\n${recorded}`);
  return outcome.result === 'Passed' ? 0 : 1;
}

async function verifyFromFile(args: VerifyArguments, file: string, io: CommandIo): Promise<number> {
  const policy: BackupPolicy = await readPolicyFile(file);
  const s3 = policy.spec.storage?.s3;
  if (s3 === undefined) {
    throw new UsageError(`${file}: spec.storage.s3 is required to find the backups to verify`);
  }
  const name = policy.metadata.name ?? 'unnamed';
  const namespace = policy.metadata.namespace ?? 'default';
  const config = s3StoreConfigOf(
    s3,
    {
      source:
        "the AWS SDK's default chain (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, a profile or a role)",
    },
    requestChecksumFrom(process.env),
  );
  const store = createS3Store(config);
  const login = process.env.PGUSER;
  const logger = loggerFor(name);
  const identity = await loadIdentityOption(args.identityFile);
  const common = {
    namespace,
    policy: name,
    prefix: s3.prefix,
    store,
    downloader: createObjectDownloader(store, identity),
    workDir: args.workDir,
    pgRoot: args.pgRoot,
    uid: process.getuid?.(),
    logger,
    clock: Date.now,
  };
  const roles = [...(login === undefined || login === '' ? [] : [login]), 'postgres'];
  const pointInTime = async () => {
    const bucket: PointInTimeBucket = {
      namespace,
      policy: name,
      policyObject: policy,
      prefix: s3.prefix,
      store,
      walStore: createWalStore(
        config,
        walKeyPrefix({ prefix: s3.prefix, namespace, policy: name }),
      ),
      downloader: common.downloader,
      keys: await keysOf(config),
    };
    return verifyPointInTime({
      ...common,
      roles,
      restorer: restorerFactory(args, logger, identity)(bucket),
    });
  };
  const outcome =
    args.type === 'logical'
      ? await verifyNewestLogicalBackup(common)
      : args.type === 'point-in-time'
        ? await pointInTime()
        : await verifyNewestBackup({ ...common, roles });
  return report(outcome, io, '');
}

async function verifyFromCluster(
  args: VerifyArguments,
  policy: { namespace: string; name: string },
  io: CommandIo,
): Promise<number> {
  const identity = await loadIdentityOption(args.identityFile);
  const result = await withClusterClient((client) =>
    verifyInCluster({
      identity,
      client,
      namespace: policy.namespace,
      policy: policy.name,
      scheduled: args.scheduled,
      type: args.type,
      workDir: args.workDir,
      pgRoot: args.pgRoot,
      uid: process.getuid?.(),
      requestChecksumCalculation: requestChecksumFrom(process.env),
      logger: loggerFor(policy.name),
      clock: Date.now,
      pointInTimeRestorer: restorerFactory(args, loggerFor(policy.name), identity),
    }),
  );
  if (result.outcome === 'skipped') {
    io.stdout.write(`skipped: ${result.message}\n`);
    return 0;
  }
  let status = 0;
  for (const drill of result.drills) {
    const recorded =
      drill.backup === undefined
        ? 'not recorded: no Backup in the namespace records this backup\n'
        : `recorded in Backup ${policy.namespace}/${drill.backup} (status.verification)\n`;
    status = Math.max(status, report(drill.verification, io, recorded));
  }
  return status;
}

/** Runs `pgbackup verify ...`; see {@link VERIFY_USAGE}. */
export const runVerifyCommand: Command = async (argv, io) => {
  const args = parseVerifyArguments(argv);
  if (args === 'help') {
    io.stdout.write(VERIFY_USAGE);
    return 0;
  }
  return args.source.kind === 'cluster'
    ? verifyFromCluster(args, args.source, io)
    : verifyFromFile(args, args.source.file, io);
};
