/** The command line of `pgbackup restore`. */
import { tmpdir } from 'node:os';
import { dirname, resolve } from 'node:path';
import {
  parseTargetLsn,
  parseTargetTime,
  type RecoveryTarget,
} from '../restore/recovery-target.js';
import type { BackupChoice } from '../runner/backup-choice.js';
import { parseOptions, usageError } from './command.js';
import { IDENTITY_OPTION_HELP } from './identity-option.js';
import {
  NOT_WITH_PVC,
  type PvcRestoreArguments,
  parsePvcRestoreArguments,
} from './restore-pvc-arguments.js';
import { type PolicySource, parseSource } from './run-arguments.js';

/** How `pgbackup restore` is called. */
export const RESTORE_USAGE = `usage: pgbackup restore (-f POLICY.yaml | --policy NAMESPACE/NAME) [--type binary]
                        [--backup KEY | --line LINE] [--local-dir DIR] --target-dir DIR
                        [--work-dir DIR] [--pg-root DIR] [--identity FILE]
       pgbackup restore (-f POLICY.yaml | --policy NAMESPACE/NAME) [--type binary]
                        (--target-time TIME | --target-lsn LSN | --target-latest) [--pause]
                        --target-dir DIR [--work-dir DIR] [--pg-root DIR] [--identity FILE]
       pgbackup restore (-f POLICY.yaml | --policy NAMESPACE/NAME) --type logical
                        [--backup KEY | --line LINE] [--database NAME] [--into NAME]
                        [--no-owner] [--jobs N] [--work-dir DIR] [--pg-root DIR]
                        [--identity FILE]
       pgbackup restore --policy NAMESPACE/NAME --to-pvc CLAIM [--pvc-size SIZE]
                        [--storage-class CLASS] [--backup KEY | --line LINE | --target-time TIME
                        | --target-lsn LSN | --target-latest] [--name NAME]
                        [--no-wait | --timeout DURATION]

Restores a committed backup of the policy: by default the newest one of any line (on-demand
backups included); --line LINE takes that line's newest, --backup KEY the one \`pgbackup list\`
printed. Every object is checked against the manifest (size and SHA-256); nothing in the
bucket is changed. A backup of a policy with spec.storage.encryption is decrypted with
--identity FILE: a missing identity, or one the backup was not encrypted for, is refused
before anything is written, naming the recipients (fingerprints) the backup was made for.

binary: each archive is extracted into --target-dir (which must not exist or be empty) while
it downloads, then checked with pg_verifybackup; an object that differs from the manifest
takes back everything the restore put there. Start PostgreSQL on it and it replays the WAL
the backup holds.
point in time (binary, from the bucket): the newest binary backup that ENDS at or before the
target is restored, and the data directory is set up to recover from the bucket's WAL
(restore_command = pgbackup wal-fetch) to the target, then be promoted. A target beyond the
newest archived WAL, or after a gap in it, is refused before the backup is downloaded, with
the latest reachable instant. docs/restore.md, "Point in time".
in the cluster (--to-pvc): creates a Restore (as \`kubectl apply\` of one would); the controller
starts a Job that restores into the PersistentVolumeClaim's subdirectory pgdata and, for a
point in time, runs the recovery to the target there, so the claim holds a data directory
any PostgreSQL image of the backup's major starts. Waits for the end and prints how to start
each preset's PostgreSQL from the claim. docs/restore-in-cluster.md.
logical: one database of the backup is restored with pg_restore into a new database on the
server libpq's environment names (PGHOST, PGPORT, PGUSER, PGPASSWORD or a password file).

options:
  -f, --filename FILE     the BackupPolicy manifest: its bucket, reached with the AWS SDK's
                          default credentials chain (the cluster need not exist)
      --policy NS/NAME    the BackupPolicy in a cluster: its bucket Secret is read with your kubeconfig
      --type TYPE         binary (default) or logical
      --backup KEY        the backup's key, as \`pgbackup list\` prints it
      --line LINE         the newest backup of this line (daily, weekly, ..., or on-demand)
      --local-dir DIR     read binary backups from this local volume instead of the bucket
      --target-dir DIR    binary: the data directory to create (must not exist, or be empty)
      --target-time TIME  recover to this instant, with its zone (2026-12-03T14:40:01.5Z,
                          2026-12-03 15:40:01+01): every transaction committed at or before it
      --target-lsn LSN    recover to this WAL position (0/3000148), inclusive
      --target-latest     recover all the WAL the bucket holds
      --pause             with --target-time/--target-lsn: pause at the target (read-only, to
                          inspect) instead of promoting; SELECT pg_wal_replay_resume() promotes
      --database NAME     logical: the database of the backup to restore (needed when it holds
                          several; \`pgbackup list -o json\` shows them)
      --into NAME         logical: the database to create and restore into (default: --database);
                          it must not exist yet
      --no-owner          logical: restore without the dump's owners and grants (pg_restore
                          --no-owner --no-acl), for a server that lacks the dump's roles
      --jobs N            logical: pg_restore's parallel jobs (default 1)
      --to-pvc CLAIM      restore inside the cluster into this claim (existing and empty, or
                          created with --pvc-size); needs --policy
      --pvc-size SIZE     with --to-pvc: create the claim with this size (e.g. 20Gi) if absent
      --storage-class SC  with --pvc-size: the StorageClass of the claim created
      --name NAME         with --to-pvc: the Restore's name (default <policy>-restore-<UTC time>)
      --no-wait           with --to-pvc: print the Restore's name and return at once
      --timeout DURATION  with --to-pvc: how long to wait for the end (default 6h)
      --for-restore NAME  (the Restore's Job) record the outcome in the Restore NAME, check
                          that the claim is empty, run a point-in-time recovery to its end
      --work-dir DIR      binary: where the pipe each object streams through is made (default:
                          the target's parent directory); logical: where objects are downloaded
                          before they are restored (default: the temporary directory, ${tmpdir()})
      --pg-root DIR       directory holding <major>/bin/pg_verifybackup, pg_restore
                          (default /usr/lib/postgresql)
${IDENTITY_OPTION_HELP}
                          (--to-pvc: the Restore's Job mounts that Secret; give no --identity)
  -h, --help              show this help
`;

/** What every restore has. */
interface CommonRestoreArguments {
  readonly source: PolicySource;
  readonly choice: BackupChoice;
  readonly workDir: string;
  readonly pgRoot: string | undefined;
  /** `--identity FILE`: read by the command (identity-option.ts), never parsed here. */
  readonly identityFile: string | undefined;
}

/** A binary restore into a data directory. */
export interface BinaryRestoreArguments extends CommonRestoreArguments {
  readonly type: 'binary';
  readonly localDir: string | undefined;
  /** Absolute. */
  readonly targetDir: string;
  /** Point in time: where recovery from the bucket's WAL stops; undefined for a plain restore. */
  readonly recoveryTarget: RecoveryTarget | undefined;
  readonly pause: boolean;
  /** The Restore whose Job this is (`--for-restore`): its outcome is recorded there. */
  readonly forRestore: string | undefined;
}

/** A logical restore of one database into a new database. */
export interface LogicalRestoreArguments extends CommonRestoreArguments {
  readonly type: 'logical';
  readonly database: string | undefined;
  readonly into: string | undefined;
  readonly noOwner: boolean;
  readonly jobs: number;
}

/** The options of one `pgbackup restore` invocation. */
export type RestoreArguments =
  | BinaryRestoreArguments
  | LogicalRestoreArguments
  | PvcRestoreArguments;

const OPTIONS = {
  filename: { type: 'string', short: 'f' },
  policy: { type: 'string' },
  type: { type: 'string', default: 'binary' },
  backup: { type: 'string' },
  line: { type: 'string' },
  'local-dir': { type: 'string' },
  'target-dir': { type: 'string' },
  'target-time': { type: 'string' },
  'target-lsn': { type: 'string' },
  'target-latest': { type: 'boolean', default: false },
  pause: { type: 'boolean', default: false },
  database: { type: 'string' },
  into: { type: 'string' },
  'no-owner': { type: 'boolean', default: false },
  jobs: { type: 'string' },
  'work-dir': { type: 'string' },
  'pg-root': { type: 'string' },
  'to-pvc': { type: 'string' },
  'pvc-size': { type: 'string' },
  'storage-class': { type: 'string' },
  name: { type: 'string' },
  'no-wait': { type: 'boolean', default: false },
  timeout: { type: 'string' },
  'for-restore': { type: 'string' },
  identity: { type: 'string' },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

const usage = (message: string) => usageError(message, RESTORE_USAGE);

type Values = ReturnType<typeof parseOptions<typeof OPTIONS>>;

/** Options that only one type takes, named by the type that takes them. */
const ONLY_BINARY = [
  'local-dir',
  'target-dir',
  'target-time',
  'target-lsn',
  'target-latest',
  'pause',
  'for-restore',
] as const;
const ONLY_LOGICAL = ['database', 'into', 'no-owner', 'jobs'] as const;

function refuseOptions(values: Values, names: readonly (keyof Values)[], type: string): void {
  const given = names.filter((name) => values[name] !== undefined && values[name] !== false);
  if (given.length > 0) {
    throw usage(
      `${given.map((name) => `--${String(name)}`).join(', ')} ${given.length === 1 ? 'goes' : 'go'} only with --type ${type}`,
    );
  }
}

function targetOf(values: Values): RecoveryTarget | string | undefined {
  if (values['target-time'] !== undefined) return parseTargetTime(values['target-time']);
  if (values['target-lsn'] !== undefined) return parseTargetLsn(values['target-lsn']);
  return values['target-latest'] ? { kind: 'latest' } : undefined;
}

/** The point-in-time target, if one was given; refuses what does not go with one. */
function parseRecoveryTarget(values: Values): RecoveryTarget | undefined {
  const given = (['target-time', 'target-lsn', 'target-latest'] as const).filter(
    (name) => values[name] !== undefined && values[name] !== false,
  );
  if (given.length > 1) throw usage(`give one of ${given.map((name) => `--${name}`).join(', ')}`);
  const parsed = targetOf(values);
  if (typeof parsed === 'string') throw usage(parsed);
  if (parsed === undefined) {
    if (values.pause) throw usage('--pause goes with --target-time or --target-lsn');
    return undefined;
  }
  if (values.backup !== undefined || values.line !== undefined) {
    throw usage(
      'a point-in-time restore chooses its backup (the newest that ends at or before the target): give no --backup or --line',
    );
  }
  if (values['local-dir'] !== undefined) {
    throw usage(
      'a point-in-time restore reads the backups and the WAL from the bucket: give no --local-dir',
    );
  }
  if (values.pause && parsed.kind === 'latest') {
    throw usage(
      '--pause goes with --target-time or --target-lsn (--target-latest has no target to pause at)',
    );
  }
  return parsed;
}

function refuseWithPvc(values: Values): void {
  const given = NOT_WITH_PVC.filter((name) => values[name] !== undefined && values[name] !== false);
  if (given.length > 0) {
    throw usage(
      `${given.map((name) => `--${name}`).join(', ')} ${given.length === 1 ? 'does' : 'do'} not go with --to-pvc: the Restore's Job chooses the paths${given.includes('pause') ? ', and finishes recovery in the Job (restore on a machine of yours with --target-dir and --pause to inspect a paused server)' : ''}`,
    );
  }
}

function parseJobs(text: string | undefined): number {
  if (text === undefined) return 1;
  const jobs = Number(text);
  if (!/^\d+$/.test(text) || jobs < 1 || jobs > 64) {
    throw usage(`--jobs "${text}" must be a whole number from 1 to 64`);
  }
  return jobs;
}

/**
 * Parses the arguments of `pgbackup restore`.
 *
 * @returns the options, or `'help'` when help was asked for.
 * @throws UsageError when an argument is missing or wrong.
 */
export function parseRestoreArguments(argv: readonly string[]): RestoreArguments | 'help' {
  const values = parseOptions(argv, OPTIONS, RESTORE_USAGE);
  if (values.help) return 'help';
  const source = parseSource(values.filename, values.policy, RESTORE_USAGE);
  if (values['to-pvc'] !== undefined) {
    refuseWithPvc(values);
    return parsePvcRestoreArguments(values, source, usage);
  }
  const pvcOnly = (['pvc-size', 'storage-class', 'name', 'no-wait', 'timeout'] as const).filter(
    (name) => values[name] !== undefined && values[name] !== false,
  );
  if (pvcOnly.length > 0) {
    throw usage(
      `${pvcOnly.map((name) => `--${name}`).join(', ')} ${pvcOnly.length === 1 ? 'goes' : 'go'} with --to-pvc CLAIM`,
    );
  }
  if (values.backup !== undefined && values.line !== undefined) {
    throw usage('give --backup KEY or --line LINE, not both');
  }
  const common = {
    source,
    choice: { key: values.backup, line: values.line },
    pgRoot: values['pg-root'],
    identityFile: values.identity,
  };
  if (values.type === 'binary') {
    refuseOptions(values, ONLY_LOGICAL, 'logical');
    const target = values['target-dir'];
    if (target === undefined || target === '') {
      throw usage(
        '--target-dir DIR is required: the data directory to restore into (it must not exist, or be empty)',
      );
    }
    const targetDir = resolve(target);
    return {
      ...common,
      type: 'binary',
      localDir: values['local-dir'],
      targetDir,
      recoveryTarget: parseRecoveryTarget(values),
      pause: values.pause,
      forRestore: values['for-restore'],
      workDir: resolve(values['work-dir'] ?? dirname(targetDir)),
    };
  }
  if (values.type === 'logical') {
    refuseOptions(values, ONLY_BINARY, 'binary');
    return {
      ...common,
      type: 'logical',
      database: values.database,
      into: values.into,
      noOwner: values['no-owner'],
      jobs: parseJobs(values.jobs),
      workDir: resolve(values['work-dir'] ?? tmpdir()),
    };
  }
  throw usage(`--type "${values.type}" is not supported; use binary or logical`);
}
