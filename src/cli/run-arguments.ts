/** The command line of `pgbackup run`. */
import { type BackupType, BINARY_LINES, type LineName, LOGICAL_LINES } from '../api/index.js';
import { parseOptions, type UsageError, usageError } from './command.js';

/** How `pgbackup run` is called. */
export const RUN_USAGE = `usage: pgbackup run --type TYPE --line LINE (-f POLICY.yaml | --policy NAMESPACE/NAME)
                    [--at RFC3339] [--local-dir DIR] [--pg-root DIR]
       pgbackup run --type TYPE --policy NAMESPACE/NAME --backup NAME

Takes one backup of a line, commits it to storage and rotates the line's slots; or, with
--backup, the on-demand backup a Backup object asks for (no line, never pruned).

options:
  -f, --filename FILE     the BackupPolicy manifest, outside a cluster: spec.target.hosts,
                          PGUSER/PGPASSWORD (or a libpq password file), the AWS SDK's credentials
      --policy NS/NAME    the BackupPolicy in a cluster, read with the runner's service account
      --type TYPE         binary (pg_basebackup of the primary) or logical (pg_dump of each
                          database and pg_dumpall --globals-only, from the most caught-up replica)
      --line LINE         daily, weekly, monthly, quarterly or yearly (logical: no daily)
      --backup NAME       the on-demand Backup (in the policy's namespace) to take, instead of a line
      --at TIME           decide the period as if it were TIME (RFC 3339), not now
      --local-dir DIR     where the local copy's volume is mounted (default /var/lib/pgbackup/local)
      --pg-root DIR       directory holding <major>/bin/pg_basebackup, pg_dump and pg_dumpall
                          (default /usr/lib/postgresql)
  -h, --help              show this help
`;

/** Where the policy comes from. */
export type PolicySource =
  | { readonly kind: 'file'; readonly file: string }
  | { readonly kind: 'cluster'; readonly namespace: string; readonly name: string };

/** The options of one `pgbackup run` invocation: a line's run, or an on-demand Backup's. */
export type RunArguments = {
  readonly source: PolicySource;
  readonly type: BackupType;
  readonly atMs: number | undefined;
  readonly localDir: string;
  readonly pgRoot: string | undefined;
} & (
  | { readonly line: LineName; readonly backup: undefined }
  | { readonly line: undefined; readonly backup: string }
);

const OPTIONS = {
  filename: { type: 'string', short: 'f' },
  policy: { type: 'string' },
  type: { type: 'string' },
  line: { type: 'string' },
  backup: { type: 'string' },
  at: { type: 'string' },
  'local-dir': { type: 'string', default: '/var/lib/pgbackup/local' },
  'pg-root': { type: 'string' },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/i;

function usage(message: string): UsageError {
  return usageError(message, RUN_USAGE);
}

/** Where `-f FILE` or `--policy NS/NAME` says the policy is; a wrong pair ends with `usageText`. */
export function parseSource(
  file: string | undefined,
  policy: string | undefined,
  usageText: string = RUN_USAGE,
): PolicySource {
  if ((file === undefined) === (policy === undefined)) {
    throw usageError('give exactly one of -f POLICY.yaml or --policy NAMESPACE/NAME', usageText);
  }
  if (file !== undefined) return { kind: 'file', file };
  const [namespace, name, ...rest] = (policy ?? '').split('/');
  if (namespace === undefined || name === undefined || rest.length > 0 || !namespace || !name) {
    throw usageError(
      `--policy "${policy}" must be NAMESPACE/NAME, e.g. databases/orders`,
      usageText,
    );
  }
  return { kind: 'cluster', namespace, name };
}

/** `--at`: an RFC 3339 instant, in ms; undefined when not given. */
export function parseAt(
  text: string | undefined,
  usageText: string = RUN_USAGE,
): number | undefined {
  if (text === undefined) return undefined;
  const ms = Date.parse(text);
  if (!RFC3339.test(text) || Number.isNaN(ms)) {
    throw usageError(
      `--at "${text}" is not an RFC 3339 time; write it like 2026-03-01T01:00:00Z`,
      usageText,
    );
  }
  return ms;
}

function parseType(text: string | undefined): BackupType {
  if (text === 'binary' || text === 'logical') return text;
  throw usage(
    text === undefined
      ? '--type is required: binary or logical'
      : `--type "${text}" is not supported; use binary or logical`,
  );
}

function parseLine(type: BackupType, text: string | undefined): LineName {
  const lines: readonly LineName[] = type === 'binary' ? BINARY_LINES : LOGICAL_LINES;
  const line = lines.find((name) => name === text);
  if (line === undefined) {
    throw usage(
      `--line of a ${type} backup must be one of ${lines.join(', ')}${text === undefined ? '' : `, not "${text}"`}`,
    );
  }
  return line;
}

/**
 * Parses the arguments of `pgbackup run`.
 *
 * @returns the options, or `'help'` when help was asked for.
 * @throws UsageError when an argument is missing or wrong.
 */
export function parseRunArguments(argv: readonly string[]): RunArguments | 'help' {
  const values = parseOptions(argv, OPTIONS, RUN_USAGE);
  if (values.help) return 'help';
  const type = parseType(values.type);
  const source = parseSource(values.filename, values.policy);
  if (values.backup !== undefined && (source.kind !== 'cluster' || values.line !== undefined)) {
    throw usage('--backup NAME goes with --policy NAMESPACE/NAME and without --line');
  }
  return {
    source,
    type,
    ...(values.backup === undefined
      ? { line: parseLine(type, values.line), backup: undefined }
      : { line: undefined, backup: values.backup }),
    atMs: parseAt(values.at),
    localDir: values['local-dir'],
    pgRoot: values['pg-root'],
  };
}
