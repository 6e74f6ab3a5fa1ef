/**
 * `pgbackup run`: the runner's entry point, which CronJobs call. It resolves the inputs of a
 * run (from a file or the cluster) and hands them to the runner of the backup's type.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { pino } from 'pino';
import { runInCluster } from '../runner/index.js';
import { withClusterClient } from './cluster-client.js';
import type { Command, CommandIo } from './command.js';
import { parseRunArguments, RUN_USAGE, type RunArguments } from './run-arguments.js';
import { requestChecksumFrom } from './run-file-mode.js';
import { describeRunResult, runPolicyFile } from './run-policy-file.js';

function loggerFor(policy: string) {
  return pino({ base: { command: 'run', policy } }, pino.destination(2));
}

async function runFromFile(args: RunArguments, file: string, io: CommandIo): Promise<number> {
  const result = await runPolicyFile({
    command: 'run',
    file,
    type: args.type,
    line: args.line,
    atMs: args.atMs,
    localDir: args.localDir,
    pgRoot: args.pgRoot,
  });
  io.stdout.write(describeRunResult(result));
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
  io.stdout.write(describeRunResult(result));
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
