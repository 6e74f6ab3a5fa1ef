/**
 * `pgbackup run`: the runner's entry point, which CronJobs call. It resolves the inputs of a
 * run (from a file or the cluster) and hands them to the runner of the backup's type.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { pino } from 'pino';
import type { BackupPolicy } from '../api/index.js';
import {
  isOnDemand,
  type RunResult,
  runBinaryBackup,
  runInCluster,
  runLogicalBackup,
} from '../runner/index.js';
import { createLocalStore } from '../storage/index.js';
import { withClusterClient } from './cluster-client.js';
import { type Command, type CommandIo, UsageError } from './command.js';
import { readPolicyFile } from './plan-policy-file.js';
import { parseRunArguments, RUN_USAGE, type RunArguments } from './run-arguments.js';
import { fileModeS3Store, fileModeTarget, requestChecksumFrom } from './run-file-mode.js';
import { onDemandCommandOf } from './run-policy-file.js';

function describeResult(result: RunResult): string {
  if (result.outcome === 'skipped') {
    return `skipped (${result.reason}): ${result.message}\n`;
  }
  const pruned = result.pruned.map((key) => `\n  deleted ${key}`).join('');
  const { line, slot, slotLabel } = result.manifest;
  const place = isOnDemand(result.manifest) ? 'on demand' : `${line} slot ${slot}, ${slotLabel}`;
  const note = result.note === undefined ? '' : `\nnote: ${result.note}`;
  return `committed ${result.key} (${place})${pruned}${note}\n`;
}

function loggerFor(policy: string) {
  return pino({ base: { command: 'run', policy } }, pino.destination(2));
}

async function runFromFile(args: RunArguments, file: string, io: CommandIo): Promise<number> {
  const policy: BackupPolicy = await readPolicyFile(file);
  const { spec } = policy;
  const s3 = spec.storage?.s3;
  if (s3 === undefined) {
    throw new UsageError(`${file}: spec.storage.s3 is required to take backups`);
  }
  const target = fileModeTarget(policy, process.env);
  const local =
    args.type === 'binary' && spec.binary.local !== undefined && args.line === 'daily'
      ? { store: createLocalStore(args.localDir), keep: spec.binary.local.keep }
      : undefined;
  const name = policy.metadata.name ?? 'unnamed';
  const input = {
    namespace: policy.metadata.namespace ?? 'default',
    policy: name,
    spec,
    line: args.line,
    // Outside a cluster the trigger is `--at`, or the start: never the end of a wait.
    triggeredAtMs: args.atMs ?? Date.now(),
    onDemandCommand: onDemandCommandOf(file, args.type),
    ...target,
    remote: fileModeS3Store(s3, process.env),
    local,
    pgRoot: args.pgRoot,
    logger: loggerFor(name),
    clock: Date.now,
  };
  const result =
    args.type === 'binary' ? await runBinaryBackup(input) : await runLogicalBackup(input);
  io.stdout.write(describeResult(result));
  return 0;
}

async function runFromCluster(
  args: RunArguments,
  policy: { namespace: string; name: string },
  io: CommandIo,
): Promise<number> {
  const result = await withClusterClient((client) =>
    runInCluster({
      client,
      namespace: policy.namespace,
      policy: policy.name,
      type: args.type,
      ...(args.backup === undefined ? { line: args.line } : { backup: args.backup }),
      atMs: args.atMs,
      // The kubelet names a pod's host after the pod: the run finds its Job through it.
      podName: process.env.HOSTNAME,
      localDir: args.localDir,
      pgRoot: args.pgRoot,
      identity: `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`,
      requestChecksumCalculation: requestChecksumFrom(process.env),
      logger: loggerFor(policy.name),
      clock: Date.now,
    }),
  );
  io.stdout.write(describeResult(result));
  return 0;
}

/** Runs `pgbackup run ...`; see {@link RUN_USAGE}. */
export const runRunCommand: Command = async (argv, io) => {
  const args = parseRunArguments(argv);
  if (args === 'help') {
    io.stdout.write(RUN_USAGE);
    return 0;
  }
  return args.source.kind === 'cluster'
    ? runFromCluster(args, args.source, io)
    : runFromFile(args, args.source.file, io);
};
