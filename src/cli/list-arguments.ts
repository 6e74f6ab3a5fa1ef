/** The command line of `pgbackup list`. */
import { BACKUP_TYPES, type BackupType, BINARY_LINES, LOGICAL_LINES } from '../api/index.js';
import { parseOptions, usageError } from './command.js';
import { type PolicySource, parseSource } from './run-arguments.js';

/** How `pgbackup list` is called. */
export const LIST_USAGE = `usage: pgbackup list (-f POLICY.yaml | --policy NAMESPACE/NAME) [--type binary|logical]
                     [--line LINE] [--local-dir DIR] [-o text|json]

Lists the policy's committed backups (those whose manifest.json exists), newest first. The
bucket alone is the catalog: with a policy file the cluster need not exist. The KEY column is
what \`pgbackup restore --backup KEY\` takes. Nothing in the bucket is changed.

options:
  -f, --filename FILE     the BackupPolicy manifest: its bucket, reached with the AWS SDK's
                          default credentials chain (the cluster need not exist)
      --policy NS/NAME    the BackupPolicy in a cluster: its bucket Secret is read with your kubeconfig
      --type TYPE         only binary or only logical backups (default: both)
      --line LINE         only this line's backups (daily, weekly, monthly, quarterly, yearly,
                          or on-demand)
      --local-dir DIR     list the binary backups on this local volume instead of the bucket
  -o, --output FORMAT     text (default: aligned columns) or json (an array, one object a backup)
  -h, --help              show this help
`;

/** How the catalog is printed. */
export type ListFormat = 'text' | 'json';

/** The options of one `pgbackup list` invocation. */
export interface ListArguments {
  readonly source: PolicySource;
  /** The types to list, in this order. */
  readonly types: readonly BackupType[];
  /** Only this line's backups (`on-demand` for those of no line). */
  readonly line: string | undefined;
  readonly localDir: string | undefined;
  readonly format: ListFormat;
}

const OPTIONS = {
  filename: { type: 'string', short: 'f' },
  policy: { type: 'string' },
  type: { type: 'string' },
  line: { type: 'string' },
  'local-dir': { type: 'string' },
  output: { type: 'string', short: 'o', default: 'text' },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

const usage = (message: string) => usageError(message, LIST_USAGE);

/** The line name `on-demand` backups are listed under. */
const ON_DEMAND_LINE = 'on-demand';

function parseTypes(type: string | undefined, localDir: string | undefined): BackupType[] {
  if (type === undefined) {
    // A runner's local volume holds binary backups only.
    return localDir === undefined ? [...BACKUP_TYPES] : ['binary'];
  }
  if (type !== 'binary' && type !== 'logical') {
    throw usage(`--type "${type}" is not supported; use binary or logical (or omit it for both)`);
  }
  if (type === 'logical' && localDir !== undefined) {
    throw usage(
      '--local-dir holds binary backups only: list logical backups from the bucket (drop --local-dir)',
    );
  }
  return [type];
}

function parseLine(line: string | undefined, types: readonly BackupType[]): string | undefined {
  if (line === undefined) return undefined;
  const lines: readonly string[] = types.includes('binary') ? BINARY_LINES : LOGICAL_LINES;
  const known = [...lines, ON_DEMAND_LINE];
  if (!known.includes(line)) {
    const of = types.length === 1 ? ` of ${types[0]} backups` : '';
    throw usage(`--line "${line}" is not a line${of}; use one of ${known.join(', ')}`);
  }
  return line;
}

function parseFormat(output: string): ListFormat {
  if (output !== 'text' && output !== 'json') {
    throw usage(`-o "${output}" is not an output format; use text or json`);
  }
  return output;
}

/**
 * Parses the arguments of `pgbackup list`.
 *
 * @returns the options, or `'help'` when help was asked for.
 * @throws UsageError when an argument is missing or wrong.
 */
export function parseListArguments(argv: readonly string[]): ListArguments | 'help' {
  const values = parseOptions(argv, OPTIONS, LIST_USAGE);
  if (values.help) return 'help';
  const source = parseSource(values.filename, values.policy, LIST_USAGE);
  const localDir = values['local-dir'];
  if (localDir === '') {
    throw usage('--local-dir needs a directory: where the local volume of the runner is mounted');
  }
  const types = parseTypes(values.type, localDir);
  return {
    source,
    types,
    line: parseLine(values.line, types),
    localDir,
    format: parseFormat(values.output),
  };
}
