/**
 * `pgbackup restore --type logical`: one database of a committed logical backup restored into
 * a new database on the server libpq's environment names (PGHOST, PGPORT, PGUSER, PGPASSWORD
 * or the password file, PGSSLMODE…), which pg_restore and this command's own session both
 * read. The password stays in the environment: never on a command line, in a log or in output.
 */
import { userInfo } from 'node:os';
import { pino } from 'pino';
import type { Credentials, Endpoint } from '../postgres/index.js';
import type { RestoreTarget } from '../postgres/restore-target.js';
import { lineOf } from '../runner/backup-choice.js';
import { GLOBALS_OBJECT } from '../runner/dump-databases.js';
import { DatabaseChoiceError } from '../runner/logical-databases.js';
import { type LogicalRestoreResult, restoreLogicalBackup } from '../runner/restore-logical.js';
import { createObjectDownloader } from '../storage/object-download.js';
import { openBackupSource } from './backup-source.js';
import { type CommandIo, UsageError } from './command.js';
import { loadIdentityOption } from './identity-option.js';
import type { LogicalRestoreArguments } from './restore-arguments.js';
import { credentialsFrom } from './run-file-mode.js';

/** libpq's default port, which pg_restore uses when PGPORT is unset. */
const DEFAULT_PORT = 5432;

function endpointFrom(env: NodeJS.ProcessEnv): Endpoint {
  if (env.PGSERVICE !== undefined && env.PGSERVICE !== '') {
    throw new UsageError(
      'PGSERVICE is set, and its service file could send pg_restore to another server than the one checked: unset it and name the server with PGHOST and PGPORT',
    );
  }
  const host = env.PGHOST;
  if (host === undefined || host === '') {
    throw new UsageError(
      'set PGHOST (and PGPORT when not 5432) to the server to restore into: a host name, an address, or a socket directory such as /var/run/postgresql',
    );
  }
  if (host.includes(',')) {
    throw new UsageError(
      `PGHOST "${host}" lists several hosts: name the one server to restore into`,
    );
  }
  const portText = env.PGPORT === undefined || env.PGPORT === '' ? undefined : env.PGPORT;
  const port = portText === undefined ? DEFAULT_PORT : Number(portText);
  if (portText !== undefined && (!/^\d+$/.test(portText) || port < 1 || port > 65_535)) {
    throw new UsageError(`PGPORT "${portText}" is not a port: give one number from 1 to 65535`);
  }
  return { host, port };
}

function loginFrom(env: NodeJS.ProcessEnv): Credentials {
  const fromEnv = credentialsFrom(env, 'PGUSER', 'PGPASSWORD');
  if (fromEnv !== undefined) return fromEnv;
  // libpq's default role is the operating system's user name; pg_restore logs in as it too.
  const password = env.PGPASSWORD;
  const hasPassword = password !== undefined && password !== '';
  const secret = hasPassword
    ? 'environment variable PGPASSWORD'
    : 'the libpq password file (PGPASSFILE or ~/.pgpass)';
  return {
    username: userInfo().username,
    ...(hasPassword ? { password } : {}),
    source: `your user name (PGUSER is unset) and ${secret}`,
  };
}

/** The server to restore into and the login, as libpq reads them from `env`. */
export function restoreTargetFrom(env: NodeJS.ProcessEnv): RestoreTarget {
  return { endpoint: endpointFrom(env), credentials: loginFrom(env) };
}

/** How an encrypted backup was read, for the summary; nothing for a plain one. */
function decryptedWith(
  manifest: LogicalRestoreResult['entry']['manifest'],
  args: LogicalRestoreArguments,
) {
  const recipients = manifest.encryption?.recipients;
  return recipients === undefined
    ? ''
    : `, encrypted for ${recipients.join(', ')} and decrypted with --identity ${args.identityFile ?? ''}`;
}

function describeResult(
  result: LogicalRestoreResult,
  args: LogicalRestoreArguments,
  target: RestoreTarget,
): string {
  const { manifest, key } = result.entry;
  const { database } = result;
  const login = target.credentials.username;
  const owners = args.noOwner
    ? `Owners and grants were skipped (--no-owner): the restored objects belong to "${login}".\n`
    : '';
  return [
    `restored database "${database.name}" into the new database "${result.into}" on ${result.where} as "${login}" (PostgreSQL ${result.serverVersion})`,
    `backup: ${key} (line ${lineOf(result.entry)}, committed at ${manifest.committedAt}, dumped from PostgreSQL ${manifest.server.version} on ${manifest.server.host})`,
    `object: ${result.objectKey} matched its manifest (${database.sizeBytes} bytes, SHA-256 ${database.sha256})${decryptedWith(manifest, args)}`,
    `${owners}Roles are not restored: they are in the backup's ${GLOBALS_OBJECT} (${key}${GLOBALS_OBJECT}); create the roles the dump names first, or restore with --no-owner when the server lacks them.\n`,
  ].join('\n');
}

/** Restores one database of a logical backup; returns the exit status. */
export async function runLogicalRestore(
  args: LogicalRestoreArguments,
  io: CommandIo,
): Promise<number> {
  // The environment is read before the bucket: a missing PGHOST costs no listing.
  const target = restoreTargetFrom(process.env);
  const identity = await loadIdentityOption(args.identityFile);
  const source = await openBackupSource(args.source, undefined);
  const logger = pino({ base: { command: 'restore', policy: source.policy } }, pino.destination(2));
  try {
    const result = await restoreLogicalBackup({
      ...source,
      downloader: createObjectDownloader(source.store, identity),
      choice: args.choice,
      database: args.database,
      into: args.into,
      noOwner: args.noOwner,
      jobs: args.jobs,
      workDir: args.workDir,
      pgRoot: args.pgRoot,
      target,
      logger,
    });
    io.stdout.write(describeResult(result, args, target));
    return 0;
  } catch (error) {
    // Naming no database, or one the backup does not hold, is a mistake in the arguments.
    if (error instanceof DatabaseChoiceError) throw new UsageError(error.message, { cause: error });
    throw error;
  }
}
