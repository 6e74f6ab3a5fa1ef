/**
 * `pgbackup restore --target-time T | --target-lsn L | --target-latest`: a point-in-time
 * restore from the bucket (src/restore/point-in-time-restore.ts), with what was chosen, how
 * far the archived WAL reaches and how to start the server printed on stdout.
 */
import { realpathSync } from 'node:fs';
import { dirname } from 'node:path';
import { pino } from 'pino';
import type { BackupPolicy } from '../api/index.js';
import { locatePgTool } from '../postgres/index.js';
import {
  type PointInTimeRestoreOutcome,
  type RecoveryKeys,
  restoreToTarget,
} from '../restore/point-in-time-restore.js';
import { describeTarget, formatMicros } from '../restore/recovery-target.js';
import { formatLsn } from '../retention/wal-names.js';
import { readPolicy, readS3Credentials } from '../runner/cluster-sources.js';
import { RestoreFailedError } from '../runner/restore-binary.js';
import { type S3Credentials, s3StoreConfigOf } from '../runner/store-config.js';
import {
  createS3Store,
  createWalStore,
  type S3StoreConfig,
  walKeyPrefix,
} from '../storage/index.js';
import { createObjectDownloader } from '../storage/object-download.js';
import { createS3Client } from '../storage/s3-client.js';
import { withClusterClient } from './cluster-client.js';
import { type CommandIo, UsageError } from './command.js';
import { loadIdentityOption } from './identity-option.js';
import { readPolicyFile } from './plan-policy-file.js';
import type { BinaryRestoreArguments } from './restore-arguments.js';
import { describeBinaryRestore } from './restore-binary-report.js';
import type { PolicySource } from './run-arguments.js';
import { requestChecksumFrom } from './run-file-mode.js';

const SDK_CHAIN =
  "the AWS SDK's default chain (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, a profile or a role)";

/** A policy read for a point-in-time restore, with its bucket's settings. */
export interface OpenedPolicy {
  readonly policy: BackupPolicy;
  readonly namespace: string;
  readonly config: S3StoreConfig;
}

/** Reads the policy and its bucket settings (refuses one without spec.storage.s3). */
export async function openPolicy(source: PolicySource): Promise<OpenedPolicy> {
  const build = (
    policy: BackupPolicy,
    namespace: string,
    credentials: S3Credentials,
    where: string,
  ) => {
    const s3 = policy.spec.storage?.s3;
    if (s3 === undefined) {
      throw new UsageError(
        `${where}: spec.storage.s3 is required: a point-in-time restore reads the backups and the WAL from the bucket`,
      );
    }
    return {
      policy,
      namespace,
      config: s3StoreConfigOf(s3, credentials, requestChecksumFrom(process.env)),
    };
  };
  if (source.kind === 'file') {
    const policy = await readPolicyFile(source.file);
    return build(
      policy,
      policy.metadata.namespace ?? 'default',
      { source: SDK_CHAIN },
      source.file,
    );
  }
  return withClusterClient(async (client) => {
    const policy = await readPolicy(client, source.namespace, source.name);
    const credentials = await readS3Credentials(client, source.namespace, policy);
    return build(
      policy,
      source.namespace,
      credentials,
      `BackupPolicy ${source.namespace}/${source.name}`,
    );
  });
}

/** The keys the restore reaches the bucket with, for wal-fetch; undefined when the chain has none. */
export async function keysOf(config: S3StoreConfig): Promise<RecoveryKeys | undefined> {
  if (config.credentials !== undefined) return config.credentials;
  try {
    const resolved = await createS3Client(config).config.credentials();
    return {
      accessKeyId: resolved.accessKeyId,
      secretAccessKey: resolved.secretAccessKey,
      sessionToken: resolved.sessionToken,
    };
  } catch {
    return undefined;
  }
}

function resolveLoader(specifier: string): string {
  try {
    return import.meta.resolve(specifier);
  } catch {
    return specifier;
  }
}

/** How the server runs this pgbackup: this node, its flags, this script (symbolic links resolved). */
export function selfCommand(): string[] {
  const script = process.argv[1];
  if (script === undefined) return ['pgbackup'];
  let real = script;
  try {
    real = realpathSync(script);
  } catch {
    // Keep the path as given.
  }
  // A loader named bare (`--import tsx`, running from the source) resolves from the working
  // directory, which for restore_command is the data directory: name it by its URL.
  const flags = process.execArgv.map((flag, index) =>
    process.execArgv[index - 1] === '--import' && !flag.includes('/') ? resolveLoader(flag) : flag,
  );
  return [process.execPath, ...flags, real];
}

/** Paths wal-fetch needs as the restore had them (TLS trust), never secrets. */
export function passEnv(): Record<string, string> {
  const names = ['NODE_EXTRA_CA_CERTS', 'AWS_REQUEST_CHECKSUM_CALCULATION'];
  return Object.fromEntries(
    names.flatMap((name) => {
      const value = process.env[name];
      return value === undefined || value === '' ? [] : [[name, value]];
    }),
  );
}

function describeRecovery(
  outcome: PointInTimeRestoreOutcome,
  pause: boolean,
  identity: { readonly path: string } | undefined,
): string {
  const { backup, facts, target } = outcome;
  const commit = facts.newestCommit;
  const gap = backup.reach.gaps[0];
  const lines = [
    '',
    `Point-in-time recovery to ${describeTarget(target)}:`,
    `  from backup   ${backup.entry.key}, which ends at ${formatLsn(backup.stopLsn)} (${backup.entry.manifest.completedAt})`,
    `  WAL reaches   ${formatLsn(backup.reach.reachableLsn)}${commit === undefined ? '' : `; newest commit archived ${formatMicros(commit.micros)}`}`,
  ];
  if (gap !== undefined) {
    lines.push(
      `  gap           timeline ${gap.timeline}, ${formatLsn(gap.fromLsn)} to ${formatLsn(gap.toLsn)}: recovery stops there`,
    );
  }
  const action =
    target.kind === 'latest'
      ? 'replays all the WAL the bucket holds, then is promoted (a new timeline)'
      : pause
        ? 'replays to the target and pauses there, read-only: check the data, then SELECT pg_wal_replay_resume() to promote it'
        : 'replays to the target, then is promoted (a new timeline)';
  lines.push(
    `  settings      appended to ${outcome.restore.targetDir}/postgresql.auto.conf, with recovery.signal`,
    `  bucket access ${outcome.recoveryDir}/ (mode 0700: policy.yaml and the S3 credentials, 0600)`,
    ...(identity === undefined
      ? []
      : [
          `  identity      ${identity.path}, named by restore_command: the server's user must be able to read it until recovery has ended`,
        ]),
    '',
    `When started (step 2 above), the server fetches WAL from the bucket with restore_command`,
    `(pgbackup wal-fetch) and ${action}. Keep ${outcome.recoveryDir}/ until recovery has ended; then remove it.`,
    '',
  );
  return lines.join('\n');
}

/** Runs a point-in-time restore; returns the exit status. */
export async function runPointInTimeRestore(
  args: BinaryRestoreArguments,
  io: CommandIo,
): Promise<number> {
  const target = args.recoveryTarget;
  if (target === undefined) throw new Error('a point-in-time restore needs a target');
  const opened = await openPolicy(args.source);
  const name = opened.policy.metadata.name ?? 'unnamed';
  const s3 = opened.policy.spec.storage?.s3;
  const prefix = s3?.prefix ?? '';
  const store = createS3Store(opened.config);
  const logger = pino({ base: { command: 'restore', policy: name } }, pino.destination(2));
  const identity = await loadIdentityOption(args.identityFile);
  try {
    const outcome = await restoreToTarget({
      namespace: opened.namespace,
      policy: name,
      prefix,
      store,
      policyObject: opened.policy,
      walStore: createWalStore(
        opened.config,
        walKeyPrefix({ prefix, namespace: opened.namespace, policy: name }),
      ),
      downloader: createObjectDownloader(store, identity),
      identity,
      target,
      pause: args.pause,
      targetDir: args.targetDir,
      workDir: args.workDir,
      pgRoot: args.pgRoot,
      uid: process.getuid?.(),
      logger,
      keys: await keysOf(opened.config),
      selfCommand: selfCommand(),
      passEnv: passEnv(),
    });
    const major = Number(outcome.restore.entry.manifest.server.versionNumber) / 10000;
    const postgres = await locatePgTool({
      tool: 'postgres',
      major: Math.floor(major),
      root: args.pgRoot,
    }).catch(() => undefined);
    io.stdout.write(
      describeBinaryRestore(outcome.restore, {
        binDir: postgres === undefined ? undefined : dirname(postgres),
      }),
    );
    io.stdout.write(describeRecovery(outcome, args.pause, identity));
    return 0;
  } catch (error) {
    if (!(error instanceof RestoreFailedError)) throw error;
    io.stderr.write(`pgbackup restore: ${error.message}\n`);
    return 1;
  }
}
