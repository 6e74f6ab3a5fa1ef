/** The command line of `pgbackup wal-receive`. */
import { DEFAULT_RECEIVER_METRICS_ADDRESS } from '../wal/receiver-metrics.js';
import { parseOptions, usageError } from './command.js';
import { type PolicySource, parseSource } from './run-arguments.js';

/** How `pgbackup wal-receive` is called. */
export const WAL_RECEIVE_USAGE = `usage: pgbackup wal-receive (-f POLICY.yaml | --policy NAMESPACE/NAME) --spool DIR
                            [--metrics-address HOST:PORT] [--status-file FILE] [--pg-root DIR]

Streams the primary's WAL into the policy's bucket (spec.continuous) until SIGTERM or SIGINT:
pg_receivewal through the policy's permanent replication slot onto the spool, each completed
segment uploaded at once, the unfinished one every spec.continuous.uploadInterval. On SIGTERM
it stops streaming, uploads what the spool holds and exits 0.

options:
  -f, --filename FILE        the BackupPolicy manifest, outside a cluster: spec.target.hosts,
                             PGUSER/PGPASSWORD (or a libpq password file) for SQL,
                             PGBACKUP_REPLICATION_USER/PASSWORD for streaming (default: PGUSER),
                             the AWS SDK's credentials
      --policy NS/NAME       the BackupPolicy in a cluster, read with the pod's service account;
                             the status goes to its status.continuous
      --spool DIR            where WAL waits for the bucket (a persistent volume in a cluster)
      --metrics-address A    serve /metrics and /healthz on HOST:PORT (default with --policy:
                             ${DEFAULT_RECEIVER_METRICS_ADDRESS}; with -f: not served unless given)
      --status-file FILE     also write status.continuous to FILE as JSON (atomically)
      --status-interval S    seconds between status writes when nothing changes (default 10)
      --pg-root DIR          directory holding <major>/bin/pg_receivewal (default /usr/lib/postgresql)
  -h, --help                 show this help
`;

/** The options of one `pgbackup wal-receive`. */
export interface WalReceiveArguments {
  readonly source: PolicySource;
  readonly spool: string;
  readonly metricsAddress: string | undefined;
  readonly statusFile: string | undefined;
  readonly statusIntervalMs: number;
  readonly pgRoot: string | undefined;
}

const OPTIONS = {
  filename: { type: 'string', short: 'f' },
  policy: { type: 'string' },
  spool: { type: 'string' },
  'metrics-address': { type: 'string' },
  'status-file': { type: 'string' },
  'status-interval': { type: 'string' },
  'pg-root': { type: 'string' },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

function parseInterval(text: string | undefined): number {
  if (text === undefined) return 10_000;
  const seconds = Number(text);
  if (!Number.isFinite(seconds) || seconds <= 0) {
    throw usageError(
      `--status-interval "${text}" must be a number of seconds above 0`,
      WAL_RECEIVE_USAGE,
    );
  }
  return seconds * 1000;
}

/**
 * Parses the arguments of `pgbackup wal-receive`.
 *
 * @returns the options, or `'help'` when help was asked for.
 * @throws UsageError when an argument is missing or wrong.
 */
export function parseWalReceiveArguments(argv: readonly string[]): WalReceiveArguments | 'help' {
  const values = parseOptions(argv, OPTIONS, WAL_RECEIVE_USAGE);
  if (values.help) return 'help';
  const source = parseSource(values.filename, values.policy, WAL_RECEIVE_USAGE);
  if (values.spool === undefined || values.spool === '') {
    throw usageError('--spool DIR is required: where WAL waits for the bucket', WAL_RECEIVE_USAGE);
  }
  const address = values['metrics-address'];
  if (address !== undefined && !/^.*:\d+$/.test(address)) {
    throw usageError(
      `--metrics-address "${address}" must be HOST:PORT, e.g. 0.0.0.0:9187`,
      WAL_RECEIVE_USAGE,
    );
  }
  return {
    source,
    spool: values.spool,
    metricsAddress:
      address ?? (source.kind === 'cluster' ? DEFAULT_RECEIVER_METRICS_ADDRESS : undefined),
    statusFile: values['status-file'],
    statusIntervalMs: parseInterval(values['status-interval']),
    pgRoot: values['pg-root'],
  };
}
