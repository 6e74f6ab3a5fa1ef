/**
 * `pgbackup verify`: the restore drill, from a policy file or for an in-cluster policy (whose
 * CronJob `<policy>-verify` runs it). Prints Passed or Failed with what the drill found, and
 * exits 0 or 1 accordingly.
 */
import { pino } from 'pino';
import type { BackupPolicy } from '../api/index.js';
import { type VerifyOutcome, verifyNewestBackup } from '../runner/verify-backup.js';
import { verifyInCluster } from '../runner/verify-in-cluster.js';
import { verifyNewestLogicalBackup } from '../runner/verify-logical.js';
import { createObjectDownloader } from '../storage/object-download.js';
import { withClusterClient } from './cluster-client.js';
import { type Command, type CommandIo, UsageError } from './command.js';
import { readPolicyFile } from './plan-policy-file.js';
import { fileModeS3Store, requestChecksumFrom } from './run-file-mode.js';
import { parseVerifyArguments, VERIFY_USAGE, type VerifyArguments } from './verify-arguments.js';

function loggerFor(policy: string) {
  return pino({ base: { command: 'verify', policy } }, pino.destination(2));
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
  const store = fileModeS3Store(s3, process.env);
  const login = process.env.PGUSER;
  const common = {
    namespace: policy.metadata.namespace ?? 'default',
    policy: name,
    prefix: s3.prefix,
    store,
    downloader: createObjectDownloader(store),
    workDir: args.workDir,
    pgRoot: args.pgRoot,
    uid: process.getuid?.(),
    logger: loggerFor(name),
    clock: Date.now,
  };
  const outcome =
    args.type === 'logical'
      ? await verifyNewestLogicalBackup(common)
      : await verifyNewestBackup({
          ...common,
          roles: [...(login === undefined || login === '' ? [] : [login]), 'postgres'],
        });
  return report(outcome, io, '');
}

async function verifyFromCluster(
  args: VerifyArguments,
  policy: { namespace: string; name: string },
  io: CommandIo,
): Promise<number> {
  const result = await withClusterClient((client) =>
    verifyInCluster({
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
