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

Takes an on-demand backup: creates a Backup (no line, never pruned) of the policy with your
kubeconfig, and the controller starts its Job. The same as writing the Backup with kubectl.

options:
      --policy NS/NAME    the BackupPolicy to back up (required)
      --type TYPE         binary (default) or logical; the policy must have that type enabled
      --name NAME         the Backup's name (default: <policy>-<type>-<UTC time>, e.g.
                          orders-binary-20261202t061500z)
      --wait              wait until the run ends and print its outcome: exit 0 when it
                          completed, 1 when it failed or was skipped, or on timeout
      --timeout DURATION  how long --wait waits, e.g. 30m or 2h (default 1h); the Backup is
                          left as it is when the wait ends
  -h, --help              show this help
`;

/** The options of one `pgbackup backup` invocation. */
export interface BackupArguments {
  readonly namespace: string;
  readonly policy: string;
  readonly type: BackupType;
  /** The Backup's name; `undefined` for the default, {@link defaultBackupName}. */
  readonly name: string | undefined;
  /** How long to wait for the run, in seconds; `undefined` without `--wait`. */
  readonly waitSeconds: number | undefined;
}

const OPTIONS = {
  policy: { type: 'string' },
  type: { type: 'string', default: 'binary' },
  name: { type: 'string' },
  wait: { type: 'boolean', default: false },
  timeout: { type: 'string' },
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
  if (values.policy === undefined) {
    throw usage('--policy NAMESPACE/NAME is required: the BackupPolicy to back up');
  }
  const source = parseSource(undefined, values.policy, BACKUP_USAGE);
  if (source.kind !== 'cluster') throw usage('--policy NAMESPACE/NAME is required');
  return {
    namespace: source.namespace,
    policy: source.name,
    type: parseType(values.type),
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
