/** The command line of `pgbackup verify`. */
import { tmpdir } from 'node:os';
import { parseOptions, usageError } from './command.js';
import { IDENTITY_OPTION_HELP } from './identity-option.js';
import { type PolicySource, parseSource } from './run-arguments.js';

/** How `pgbackup verify` is called. */
export const VERIFY_USAGE = `usage: pgbackup verify (-f POLICY.yaml | --policy NAMESPACE/NAME)
                       [--type binary|logical|point-in-time] [--work-dir DIR] [--pg-root DIR] [--scheduled]
                       [--identity FILE]

The restore drill (--type binary, the default): restores the policy's newest committed binary backup (of any line, or on
demand) into a throwaway server and checks it. Every object is downloaded and checked against
the manifest (size and SHA-256), the archive is extracted, pg_verifybackup checks the files
and the WAL, a server started on the copy (Unix socket only) must recover and accept
connections, and pg_amcheck --all --install-missing checks every table and B-tree index.
Everything the drill wrote is removed afterwards. Exit status 0: Passed; 1: Failed (or the
drill could not run).

The logical drill (--type logical): restores each database of the policy's newest committed
logical backup with pg_restore (without owners, grants and tablespaces) into an empty
throwaway server, and compares it with the dump's table of contents (pg_restore -l): every
schema, table, view, sequence, index, constraint, trigger and function listed must exist, and
every table must hold the rows of the dump's data. A difference fails the drill, naming the
database and the objects.

The point-in-time drill (--type point-in-time): restores the newest binary backup as
pgbackup restore --target-time does, to the commit time of the second-newest transaction the
archived WAL holds after it; the throwaway server fetches the WAL from the bucket (wal-fetch),
and recovery must replay exactly to that transaction and stop before the newest one (checked
with pg_last_xact_replay_timestamp() and the server's log), then pg_amcheck checks it. WAL
missing from the bucket after the backup fails the drill before anything is downloaded,
naming the segments; a damaged WAL object fails it during recovery, naming the object.

A backup of a policy with spec.storage.encryption is decrypted with --identity FILE (the
drill's CronJob passes the Secret of spec.storage.encryption.identity, mounted as a file); a
missing identity, or one the backup was not encrypted for, fails the drill before anything is
downloaded, naming the recipients (fingerprints) the backup was made for.

With --policy the result is written to the Backup's status.verification. PostgreSQL refuses
to run as root: run it as an unprivileged user.

options:
  -f, --filename FILE     the BackupPolicy manifest, outside a cluster: the AWS SDK's credentials;
                          pg_amcheck runs as PGUSER if it is a superuser of the backup, else postgres
      --policy NS/NAME    the BackupPolicy in a cluster, read with the runner's service account
      --work-dir DIR      where to download and restore: needs room for the backup compressed
                          and extracted (default: the temporary directory, ${tmpdir()})
      --pg-root DIR       directory holding <major>/bin/postgres, pg_verifybackup, pg_amcheck
                          and (point-in-time) pg_waldump (default /usr/lib/postgresql)
      --scheduled         the CronJob's run: do nothing on days the spec.verify.schedule line
                          does not fire on (the monthly drill is triggered on days 28 to 31)
      --type TYPE         binary (default), logical or point-in-time; with --scheduled and
                          no --type, the drill of each type the policy enables (binary, then
                          point-in-time when spec.continuous is enabled, then logical)
${IDENTITY_OPTION_HELP}
  -h, --help              show this help
`;

/** Which drill runs. */
export type VerifyType = 'binary' | 'logical' | 'point-in-time';

/** The options of one `pgbackup verify` invocation. */
export interface VerifyArguments {
  readonly source: PolicySource;
  /** The drill asked for; undefined: binary, or with --scheduled each type the policy enables. */
  readonly type: VerifyType | undefined;
  readonly workDir: string;
  readonly pgRoot: string | undefined;
  readonly scheduled: boolean;
  /** `--identity FILE`: read by the command (identity-option.ts), never parsed here. */
  readonly identityFile: string | undefined;
}

const OPTIONS = {
  filename: { type: 'string', short: 'f' },
  policy: { type: 'string' },
  type: { type: 'string' },
  'work-dir': { type: 'string' },
  'pg-root': { type: 'string' },
  scheduled: { type: 'boolean', default: false },
  identity: { type: 'string' },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

/**
 * Parses the arguments of `pgbackup verify`.
 *
 * @returns the options, or `'help'` when help was asked for.
 * @throws UsageError when an argument is missing or wrong.
 */
export function parseVerifyArguments(argv: readonly string[]): VerifyArguments | 'help' {
  const values = parseOptions(argv, OPTIONS, VERIFY_USAGE);
  if (values.help) return 'help';
  const source = parseSource(values.filename, values.policy, VERIFY_USAGE);
  if (values.scheduled && source.kind !== 'cluster') {
    throw usageError('--scheduled goes with --policy NAMESPACE/NAME', VERIFY_USAGE);
  }
  const type = values.type;
  if (type !== undefined && type !== 'binary' && type !== 'logical' && type !== 'point-in-time') {
    throw usageError(`--type is binary, logical or point-in-time, not "${type}"`, VERIFY_USAGE);
  }
  return {
    source,
    type,
    workDir: values['work-dir'] ?? tmpdir(),
    pgRoot: values['pg-root'],
    scheduled: values.scheduled,
    identityFile: values.identity,
  };
}
