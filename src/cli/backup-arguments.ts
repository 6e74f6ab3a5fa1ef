/** The command line of `pgbackup backup`, and the name it gives an on-demand Backup. */

import { OBJECT_NAME_PATTERN } from '../api/fields.js';
import { type BackupType, parseDurationSeconds } from '../api/index.js';
import { boundedName, LABEL_VALUE_MAX } from '../render/object-name.js';
import { formatKeyTimestamp } from '../storage/key-scheme.js';
import { parseOptions, usageError } from './command.js';
import { parseSource } from './run-arguments.js';

/** How `pgbackup backup` is called. */
export const BACKUP_USAGE = `usage: pgbackup backup --policy NAMESPACE/NAME [--type binary|logical] [--name NAME]
                       [--wait] [--timeout DURATION]
       pgbackup backup -f POLICY.yaml [--type binary|logical] [--pg-root DIR]

Takes an on-demand backup (no line, never pruned). With --policy: creates a Backup of the
policy with your kubeconfig, and the controller starts its Job; the same as writing the
Backup with kubectl. With -f, outside a cluster: takes the backup here and now, as
\`pgbackup run -f\` takes a line's, and ends when it is committed.

options:
      --policy NS/NAME    the BackupPolicy in a cluster to back up
  -f, --filename FILE     the BackupPolicy manifest, outside a cluster: spec.target.hosts,
                          PGUSER/PGPASSWORD (or a libpq password file), the AWS SDK's credentials
      --type TYPE         binary (default) or logical; the policy must have that type enabled
      --name NAME         with --policy: the Backup's name (default: <policy>-<type>-<UTC time>,
                          e.g. orders-binary-20261202t061500z)
      --wait              with --policy: wait until the run ends and print its outcome: exit 0
                          when it completed, 1 when it failed or was skipped, or on timeout
      --timeout DURATION  how long --wait waits, e.g. 30m or 2h (default 1h); the Backup is
                          left as it is when the wait ends
      --pg-root DIR       with -f: directory holding <major>/bin/pg_basebackup, pg_dump and
                          pg_dumpall (default /usr/lib/postgresql)
  -h, --help              show this help
`;

/** `pgbackup backup --policy`: a Backup object in a cluster, which the controller runs. */
export interface ClusterBackupArguments {
  readonly kind: 'cluster';
  readonly namespace: string;
  readonly policy: string;
  readonly type: BackupType;
  /** The Backup's name; `undefined` for the default, {@link defaultBackupName}. */
  readonly name: string | undefined;
  /** How long to wait for the run, in seconds; `undefined` without `--wait`. */
  readonly waitSeconds: number | undefined;
}

/** `pgbackup backup -f`: the backup taken here, outside a cluster. */
export interface FileBackupArguments {
  readonly kind: 'file';
  readonly file: string;
  readonly type: BackupType;
  readonly pgRoot: string | undefined;
}

/** The options of one `pgbackup backup` invocation. */
export type BackupArguments = ClusterBackupArguments | FileBackupArguments;

const OPTIONS = {
  filename: { type: 'string', short: 'f' },
  policy: { type: 'string' },
  type: { type: 'string', default: 'binary' },
  name: { type: 'string' },
  wait: { type: 'boolean', default: false },
  timeout: { type: 'string' },
  'pg-root': { type: 'string' },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

/** Longest name of a Backup (a DNS subdomain). */
const BACKUP_NAME_MAX = 253;

/** What `--wait` waits for without `--timeout`. */
const DEFAULT_TIMEOUT = '1h';

const usage = (message: string) => usageError(message, BACKUP_USAGE);

function parseType(type: string): BackupType {
  if (type !== 'binary' && type !== 'logical') {
    throw usage(`--type "${type}" is not supported; use binary or logical`);
  }
  return type;
}

function parseName(name: string | undefined): string | undefined {
  if (name === undefined) return undefined;
  if (name.length > BACKUP_NAME_MAX || !OBJECT_NAME_PATTERN.test(name)) {
    throw usage(
      `--name "${name}" is not a Backup name; use a lowercase DNS-1123 name of at most ${BACKUP_NAME_MAX} characters such as "before-upgrade" (a-z, 0-9, "-", ".")`,
    );
  }
  return name;
}

function parseWait(wait: boolean, timeout: string | undefined): number | undefined {
  if (!wait) {
    if (timeout !== undefined) throw usage('--timeout goes with --wait: add --wait or drop it');
    return undefined;
  }
  const text = timeout ?? DEFAULT_TIMEOUT;
  const seconds = parseDurationSeconds(text);
  if (seconds === undefined || seconds === 0) {
    throw usage(`--timeout "${text}" is not a duration; write it like 90s, 30m or 1h30m`);
  }
  return seconds;
}

/**
 * Parses the arguments of `pgbackup backup`.
 *
 * @returns the options, or `'help'` when help was asked for.
 * @throws UsageError when an argument is missing or wrong.
 */
export function parseBackupArguments(argv: readonly string[]): BackupArguments | 'help' {
  const values = parseOptions(argv, OPTIONS, BACKUP_USAGE);
  if (values.help) return 'help';
  if (values.policy === undefined && values.filename === undefined) {
    throw usage(
      'give --policy NAMESPACE/NAME (a BackupPolicy in a cluster) or -f POLICY.yaml (outside a cluster): the policy to back up',
    );
  }
  const source = parseSource(values.filename, values.policy, BACKUP_USAGE);
  const type = parseType(values.type);
  if (source.kind === 'file') {
    const clusterOnly = (['name', 'wait', 'timeout'] as const).filter(
      (option) => values[option] !== undefined && values[option] !== false,
    );
    if (clusterOnly.length > 0) {
      throw usage(
        `${clusterOnly.map((option) => `--${option}`).join(', ')} go${clusterOnly.length === 1 ? 'es' : ''} with --policy (a Backup in a cluster); with -f the backup is taken here and the command ends when it is committed`,
      );
    }
    return { kind: 'file', file: source.file, type, pgRoot: values['pg-root'] };
  }
  if (values['pg-root'] !== undefined) {
    throw usage('--pg-root goes with -f: in a cluster the runner image carries the tools');
  }
  return {
    kind: 'cluster',
    namespace: source.namespace,
    policy: source.name,
    type,
    name: parseName(values.name),
    waitSeconds: parseWait(values.wait, values.timeout),
  };
}

/**
 * The default name of an on-demand Backup: `<policy>-<type>-<UTC time>` in lower case (e.g.
 * `orders-binary-20261202t061500z`), cut with a hash to 63 characters so it is also a valid
 * label value.
 */
export function defaultBackupName(policy: string, type: BackupType, atMs: number): string {
  return boundedName(
    `${policy}-${type}-${formatKeyTimestamp(atMs).toLowerCase()}`,
    LABEL_VALUE_MAX,
  );
}
