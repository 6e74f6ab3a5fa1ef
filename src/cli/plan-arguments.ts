/** The command line of `pgbackup plan`. */
import { epochDayOf, type LocalDate, parseLocalDate } from '../retention/index.js';
import { parseOptions, UsageError, usageError } from './command.js';

/** How `pgbackup plan` is called. */
export const PLAN_USAGE = `usage: pgbackup plan -f POLICY.yaml --from YYYY-MM-DD --to YYYY-MM-DD [--output json]

Previews a BackupPolicy's retention plan: which runs fire on which dates, the slot each fills,
and the backups that exist at the end of --to if every run from --from on succeeds.

options:
  -f, --filename FILE   the BackupPolicy manifest (YAML or JSON)
      --from DATE       first date of the preview, in the policy's time zone
      --to DATE         last date of the preview (inclusive)
  -o, --output FORMAT   "text" (a calendar and a slot table, the default) or "json"
  -h, --help            show this help
`;

/** The options of one `pgbackup plan` invocation. */
export interface PlanArguments {
  readonly file: string;
  readonly from: LocalDate;
  readonly to: LocalDate;
  readonly output: 'text' | 'json';
}

// A preview longer than this is almost certainly a typo in a year, and would print for minutes.
const MAX_RANGE_DAYS = 100 * 366;

const OPTIONS = {
  filename: { type: 'string', short: 'f' },
  from: { type: 'string' },
  to: { type: 'string' },
  output: { type: 'string', short: 'o', default: 'text' },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

function requireDate(option: 'from' | 'to', text: string | undefined): LocalDate {
  if (text === undefined) {
    throw usageError(`--${option} is required (a date, YYYY-MM-DD)`, PLAN_USAGE);
  }
  const date = parseLocalDate(text);
  if (date === undefined) {
    throw new UsageError(
      `--${option} "${text}" is not a date; write it as YYYY-MM-DD, e.g. 2026-01-31`,
    );
  }
  return date;
}

/**
 * Parses the arguments of `pgbackup plan`.
 *
 * @returns the options, or `'help'` when help was asked for.
 * @throws UsageError when an argument is missing or wrong.
 */
export function parsePlanArguments(argv: readonly string[]): PlanArguments | 'help' {
  const values = parseOptions(argv, OPTIONS, PLAN_USAGE);
  if (values.help) {
    return 'help';
  }
  if (values.filename === undefined) {
    throw usageError('-f POLICY.yaml is required', PLAN_USAGE);
  }
  const from = requireDate('from', values.from);
  const to = requireDate('to', values.to);
  const days = epochDayOf(to) - epochDayOf(from);
  if (days < 0) {
    throw new UsageError(`--from ${values.from} is after --to ${values.to}`);
  }
  if (days > MAX_RANGE_DAYS) {
    throw new UsageError('the range from --from to --to may span at most 100 years');
  }
  if (values.output !== 'text' && values.output !== 'json') {
    throw new UsageError(`--output "${values.output}" is not supported; use "text" or "json"`);
  }
  return { file: values.filename, from, to, output: values.output };
}
