/**
 * `pgbackup wal-receive`: the WAL receiver's entry point. With `--policy NS/NAME` (the
 * Deployment the controller renders) it reads the policy and its Secrets with the pod's
 * service account and reports to the policy's status.continuous; with `-f POLICY.yaml` it runs
 * in the foreground outside a cluster, logging each change of state (and `--status-file`).
 * Both stop on SIGTERM or SIGINT: streaming ends, the spool is uploaded, exit 0.
 */
import { pino } from 'pino';
import { type BackupPolicy, parseDurationSeconds, parseWindowSeconds } from '../api/index.js';
import type { KubeClient } from '../kube/kube-client.js';
import {
  listTargetEndpoints,
  readCredentials,
  readPolicy,
  readS3Credentials,
  s3SpecOf,
} from '../runner/cluster-sources.js';
import {
  clusterRecipientReader,
  type RecipientReader,
  resolveRecipients,
  s3StoreConfigOf,
} from '../runner/index.js';
import {
  createS3Store,
  createWalStore,
  type S3StoreConfig,
  walKeyPrefix,
} from '../storage/index.js';
import { createReceiverMetrics, serveReceiverMetrics } from '../wal/receiver-metrics.js';
import { fileStatusSink, policyStatusSink, type StatusSink } from '../wal/status-sinks.js';
import { WalReceiver, type WalReceiverInput } from '../wal/wal-receiver.js';
import { withClusterClient } from './cluster-client.js';
import { type Command, type CommandIo, UsageError } from './command.js';
import { readPolicyFile } from './plan-policy-file.js';
import { fileModeTarget, requestChecksumFrom } from './run-file-mode.js';
import {
  parseWalReceiveArguments,
  WAL_RECEIVE_USAGE,
  type WalReceiveArguments,
} from './wal-receive-arguments.js';

/** What both sources give the receiver; the rest comes from the arguments. */
type PolicyInputs = Pick<
  WalReceiverInput,
  | 'namespace'
  | 'policy'
  | 'compression'
  | 'encryption'
  | 'uploadIntervalMs'
  | 'windowMs'
  | 'endpoints'
  | 'credentials'
  | 'replicationCredentials'
  | 'walStore'
  | 'backups'
  | 'storagePrefix'
>;

/** Where the policy is named in messages: the file, or `BackupPolicy ns/name`. */
function continuousOf(policy: BackupPolicy, where: string) {
  const { continuous } = policy.spec;
  if (!continuous.enabled) {
    throw new UsageError(
      `${where}: spec.continuous.enabled is false; set it to true to stream WAL into the bucket`,
    );
  }
  return {
    compression: continuous.compression,
    uploadIntervalMs: (parseDurationSeconds(continuous.uploadInterval) ?? 10) * 1000,
    windowMs: (parseWindowSeconds(continuous.window) ?? 7 * 86_400) * 1000,
  };
}

/**
 * The recipients every WAL object is encrypted for, when the policy sets
 * `spec.storage.encryption` (never the identity: the receiver cannot read what it stored).
 * Outside a cluster (`reader` undefined) only inline keys can be read.
 */
async function encryptionOf(policy: BackupPolicy, reader: RecipientReader | undefined) {
  const encryption = policy.spec.storage?.encryption;
  if (encryption === undefined) return { encryption: undefined };
  return { encryption: await resolveRecipients(encryption, reader) };
}

function storesOf(
  config: S3StoreConfig,
  location: { prefix: string; namespace: string; policy: string },
) {
  return {
    walStore: createWalStore(config, walKeyPrefix(location)),
    backups: createS3Store(config),
    storagePrefix: location.prefix,
  };
}

async function fileInputs(file: string): Promise<PolicyInputs> {
  const policy = await readPolicyFile(file);
  const s3 = policy.spec.storage?.s3;
  if (s3 === undefined) {
    throw new UsageError(`${file}: spec.storage.s3 is required: WAL goes to the bucket`);
  }
  const settings = continuousOf(policy, file);
  const target = fileModeTarget(policy, process.env);
  const namespace = policy.metadata.namespace ?? 'default';
  const name = policy.metadata.name ?? 'unnamed';
  const credentials = {
    source:
      "the AWS SDK's default chain (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, a profile or a role)",
  };
  const config = s3StoreConfigOf(s3, credentials, requestChecksumFrom(process.env));
  return {
    namespace,
    policy: name,
    ...settings,
    ...(await encryptionOf(policy, undefined)),
    endpoints: async () => target,
    credentials: target.credentials,
    replicationCredentials: target.replicationCredentials,
    ...storesOf(config, { prefix: s3.prefix, namespace, policy: name }),
  };
}

async function clusterInputs(
  client: KubeClient,
  where: { namespace: string; name: string },
): Promise<PolicyInputs> {
  const { namespace, name } = where;
  const policy = await readPolicy(client, namespace, name);
  const s3 = s3SpecOf({ namespace, policy: name }, policy);
  const settings = continuousOf(policy, `BackupPolicy ${namespace}/${name}`);
  const { target } = policy.spec;
  const credentials = await readCredentials(client, namespace, target.credentials.secretName);
  const replicationSecret = target.replicationCredentials?.secretName;
  const replicationCredentials =
    replicationSecret === undefined
      ? credentials
      : await readCredentials(client, namespace, replicationSecret);
  const s3Credentials = await readS3Credentials(client, namespace, policy);
  const config = s3StoreConfigOf(s3, s3Credentials, requestChecksumFrom(process.env));
  return {
    namespace,
    policy: name,
    ...settings,
    ...(await encryptionOf(policy, clusterRecipientReader(client, namespace))),
    // Pods come and go (a failover): the target's pods are listed again at each discovery.
    endpoints: () => listTargetEndpoints(client, policy),
    credentials,
    replicationCredentials,
    ...storesOf(config, { prefix: s3.prefix, namespace, policy: name }),
  };
}

/** An AbortSignal that SIGTERM or SIGINT aborts. */
function stopSignal(): { signal: AbortSignal; dispose: () => void } {
  const controller = new AbortController();
  const stop = () => controller.abort();
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  return {
    signal: controller.signal,
    dispose: () => {
      process.off('SIGTERM', stop);
      process.off('SIGINT', stop);
    },
  };
}

async function receive(
  args: WalReceiveArguments,
  inputs: PolicyInputs,
  sinks: StatusSink[],
  io: CommandIo,
): Promise<number> {
  const logger = pino(
    { base: { command: 'wal-receive', policy: inputs.policy } },
    pino.destination(2),
  );
  if (args.statusFile !== undefined) sinks.push(fileStatusSink(args.statusFile));
  const metrics = createReceiverMetrics({ namespace: inputs.namespace, name: inputs.policy });
  const { signal, dispose } = stopSignal();
  const receiver = new WalReceiver({
    ...inputs,
    spoolDir: args.spool,
    pgRoot: args.pgRoot,
    sinks,
    metrics,
    statusIntervalMs: args.statusIntervalMs,
    logger,
    clock: Date.now,
    signal,
  });
  const server =
    args.metricsAddress === undefined
      ? undefined
      : await serveReceiverMetrics(args.metricsAddress, metrics, () => receiver.alive());
  if (server !== undefined)
    logger.info({ address: server.address }, 'serving /metrics and /healthz');
  try {
    await receiver.run();
  } finally {
    dispose();
    await server?.close();
  }
  io.stdout.write(
    `stopped; ${receiver.statusNow().spoolBytes ?? 0} bytes of WAL left on the spool\n`,
  );
  return 0;
}

/** Runs `pgbackup wal-receive ...`; see {@link WAL_RECEIVE_USAGE}. */
export const runWalReceiveCommand: Command = async (argv, io) => {
  const args = parseWalReceiveArguments(argv);
  if (args === 'help') {
    io.stdout.write(WAL_RECEIVE_USAGE);
    return 0;
  }
  const { source } = args;
  if (source.kind === 'file') {
    return receive(args, await fileInputs(source.file), [], io);
  }
  return withClusterClient(async (client) =>
    receive(args, await clusterInputs(client, source), [policyStatusSink(client, source)], io),
  );
};
