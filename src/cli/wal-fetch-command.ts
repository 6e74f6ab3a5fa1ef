/**
 * `pgbackup wal-fetch FILE DEST`: the `restore_command` of a restore from the bucket's WAL.
 * Exit status 0 when DEST holds the file, 1 (one short line) when the bucket has no such
 * file, which recovery asks for as a matter of course, and 126 on any other failure (wrong
 * arguments included), so that
 * PostgreSQL stops recovery instead of ending it early at WAL it could not read and
 * promoting a server that lacks it.
 */
import { parseArgs } from 'node:util';
import { fetchWalFile } from '../wal/fetch-wal.js';
import { type Command, UsageError, usageError } from './command.js';
import { loadIdentityOption } from './identity-option.js';
import { parseSource } from './run-arguments.js';
import { openWalSource } from './wal-source.js';

/** How `pgbackup wal-fetch` is called. */
export const WAL_FETCH_USAGE = `usage: pgbackup wal-fetch FILE DEST (-f POLICY.yaml | --policy NAMESPACE/NAME)
                          [--identity IDENTITY_FILE]

Fetches the WAL file FILE of the policy from its bucket into DEST: the restore_command of a
server recovering from the bucket's WAL, e.g.
  restore_command = 'pgbackup wal-fetch %f %p -f /etc/pgbackup/policy.yaml'
The stored bytes are checked against the SHA-256 they were stored with, decompressed, and
DEST appears only complete. A segment never completed is served from its .partial only while
no newer WAL follows it. WAL of a policy with spec.storage.encryption is stored encrypted
(.age): it is decrypted with --identity; without it, or with an identity the object was not
encrypted for, wal-fetch fails (126) naming the recipients' fingerprints, and DEST is not made.

exit status: 0 fetched; 1 the bucket has no such file (recovery asks for such files); 126 any
other failure (wrong arguments, the bucket unreachable, a damaged object, DEST not writable),
which makes PostgreSQL stop recovery rather than end it early.

options:
  -f, --filename FILE     the BackupPolicy manifest: its bucket, reached with the AWS SDK's
                          default credentials chain (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY
                          in the server's environment, a profile or a role)
      --policy NS/NAME    the BackupPolicy in a cluster: its bucket Secret is read with the
                          kubeconfig of the server's environment
      --identity FILE     the age identity file (age-keygen's output) that decrypts encrypted
                          WAL; an absolute path the server's user can read, not readable by
                          others (chmod 600). Plain WAL needs none
  -h, --help              show this help
`;

/** The exit status of a failure PostgreSQL must not take for a missing file (above 125). */
export const WAL_FETCH_FAILED = 126;

const OPTIONS = {
  filename: { type: 'string', short: 'f' },
  policy: { type: 'string' },
  identity: { type: 'string' },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

function parseWalFetchArguments(argv: readonly string[]) {
  let parsed: ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>;
  try {
    parsed = parseArgs({ args: [...argv], options: OPTIONS, strict: true, allowPositionals: true });
  } catch (error) {
    throw usageError((error as Error).message, WAL_FETCH_USAGE, { cause: error });
  }
  if (parsed.values.help) return 'help' as const;
  const [file, destination, ...rest] = parsed.positionals;
  if (file === undefined || destination === undefined || rest.length > 0) {
    throw usageError('give the WAL file name and the destination path: FILE DEST', WAL_FETCH_USAGE);
  }
  const source = parseSource(parsed.values.filename, parsed.values.policy, WAL_FETCH_USAGE);
  return { file, destination, source, identityFile: parsed.values.identity };
}

/** Runs `pgbackup wal-fetch ...`; see {@link WAL_FETCH_USAGE}. */
export const runWalFetchCommand: Command = async (argv, io) => {
  let args: ReturnType<typeof parseWalFetchArguments>;
  try {
    args = parseWalFetchArguments(argv);
  } catch (error) {
    // Not 2: a restore_command with wrong arguments must stop recovery, not end it early.
    if (!(error instanceof UsageError)) throw error;
    io.stderr.write(`pgbackup wal-fetch: ${error.message}\n`);
    return WAL_FETCH_FAILED;
  }
  if (args === 'help') {
    io.stdout.write(WAL_FETCH_USAGE);
    return 0;
  }
  try {
    const identity = await loadIdentityOption(args.identityFile);
    const { walStore } = await openWalSource(args.source);
    const outcome = await fetchWalFile({
      store: walStore,
      requested: args.file,
      destination: args.destination,
      identity,
    });
    if (outcome.kind === 'missing') {
      io.stderr.write(`pgbackup wal-fetch: ${outcome.reason}\n`);
      return 1;
    }
    if (outcome.partial) {
      io.stderr.write(
        `pgbackup wal-fetch: ${args.file} from ${outcome.name}, the newest WAL in the bucket\n`,
      );
    }
    return 0;
  } catch (error) {
    const cause =
      (error as Error)?.cause instanceof Error
        ? ` (cause: ${((error as Error).cause as Error).message})`
        : '';
    io.stderr.write(
      `pgbackup wal-fetch: could not fetch ${args.file}: ${(error as Error)?.message ?? String(error)}${cause}\n`,
    );
    return WAL_FETCH_FAILED;
  }
};
