/**
 * `pgbackup wal-prune`: WAL retention applied once: the WAL before the newest committed binary
 * backup older than spec.continuous.window is deleted (the receiver does the same periodically).
 */
import { formatLsn } from '../retention/index.js';
import { pruneWal, walPrunePolicyOf } from '../wal/prune-wal.js';
import { type Command, parseOptions } from './command.js';
import { formatSize } from './list-output.js';
import { parseAt, parseSource } from './run-arguments.js';
import { openWalSource } from './wal-source.js';

/** How `pgbackup wal-prune` is called. */
export const WAL_PRUNE_USAGE = `usage: pgbackup wal-prune (-f POLICY.yaml | --policy NAMESPACE/NAME) [--at TIME] [--dry-run]

Deletes the policy's WAL that spec.continuous.window no longer needs: everything before the
start of the newest committed binary backup older than the window (the anchor), so every
instant of the window stays restorable. Without such a backup nothing is deleted; history
files are never deleted. Binary backups carry their own WAL and stay restorable.

options:
  -f, --filename FILE     the BackupPolicy manifest: its bucket, reached with the AWS SDK's
                          default credentials chain
      --policy NS/NAME    the BackupPolicy in a cluster: its bucket Secret is read with your kubeconfig
      --at TIME           judge the window as of this RFC 3339 instant instead of now
      --dry-run           print what would be deleted; delete nothing
  -h, --help              show this help
`;

const OPTIONS = {
  filename: { type: 'string', short: 'f' },
  policy: { type: 'string' },
  at: { type: 'string' },
  'dry-run': { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

/** Runs `pgbackup wal-prune ...`; see {@link WAL_PRUNE_USAGE}. */
export const runWalPruneCommand: Command = async (argv, io) => {
  const values = parseOptions(argv, OPTIONS, WAL_PRUNE_USAGE);
  if (values.help) {
    io.stdout.write(WAL_PRUNE_USAGE);
    return 0;
  }
  const atMs = parseAt(values.at, WAL_PRUNE_USAGE);
  const source = await openWalSource(parseSource(values.filename, values.policy, WAL_PRUNE_USAGE));
  const policy = walPrunePolicyOf(source.policy, source.namespace);
  const report = await pruneWal({
    walStore: source.walStore,
    backups: source.backups,
    policy,
    nowMs: atMs ?? Date.now(),
    dryRun: values['dry-run'],
  });
  const window = source.policy.spec.continuous.window;
  if (report.anchor === undefined) {
    io.stdout.write(
      `no committed binary backup is older than the window (${window}): nothing deleted, ${report.keptCount} WAL objects kept\n`,
    );
    return 0;
  }
  const verb = report.dryRun ? 'would delete' : 'deleted';
  io.stdout.write(
    `anchor: ${report.anchor.key} (starts at ${formatLsn(report.anchor.startLsn)}), the newest binary backup older than the window (${window})\n`,
  );
  for (const name of report.deletions) io.stdout.write(`${verb} ${name}\n`);
  io.stdout.write(
    `${verb} ${report.deletions.length} WAL objects (${formatSize(report.deletedBytes)}), kept ${report.keptCount}\n`,
  );
  return 0;
};
