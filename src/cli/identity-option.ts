/**
 * `--identity FILE`: the age identity file of the commands that read backup contents
 * (restore, verify), as `age -i` takes it: `age-keygen`'s output, one `AGE-SECRET-KEY-1…` a
 * line, several allowed. The identity reaches a process only as a file (in the cluster the
 * Secret mounted read-only at /etc/pgbackup/identity/, render/runner-pod.ts), never on a command line, in the
 * environment or in a message: errors name the file and the line, never what it holds.
 */
import { open } from 'node:fs/promises';
import { resolve } from 'node:path';
import { type AgeIdentity, KeyFormatError, parseIdentities } from '../encryption/index.js';
import type { ReaderIdentity } from '../storage/object-download.js';
import { UsageError } from './command.js';

/** An identity file holds a few lines; anything larger is not one (and is not read whole). */
const MAX_IDENTITY_FILE_BYTES = 64 * 1024;

/** Permission bits for "others may read": such a file is refused, as ssh refuses a key. */
const OTHERS_READ = 0o004;

/** The identities of `--identity FILE`, ready for a downloader (`source` names the file). */
export interface LoadedIdentity extends ReaderIdentity {
  /** Absolute. */
  readonly path: string;
  readonly identities: readonly AgeIdentity[];
}

/** The help text's line for the option, shared by restore and verify. */
export const IDENTITY_OPTION_HELP = `      --identity FILE     the age identity file (age-keygen's output; several keys, one a
                          line, are tried in turn) that decrypts an encrypted backup, as
                          \`age -i\` takes it; not readable by others (chmod 600). Plain
                          backups need none; in the cluster, spec.storage.encryption.identity`;

function describeCode(error: unknown): string {
  const code = error instanceof Error && 'code' in error ? String(error.code) : undefined;
  if (code === 'ENOENT') return 'it does not exist';
  if (code === 'EACCES') return 'it cannot be read by the user running pgbackup';
  if (code === 'EISDIR') return 'it is a directory';
  return error instanceof Error ? error.message : String(error);
}

/**
 * Reads and parses the identity file. Group-readable is accepted (Kubernetes makes a mounted
 * Secret's 0400 file 0440 when the pod has an fsGroup); readable by others is refused.
 *
 * @throws UsageError naming the file and what is wrong (missing, unreadable, readable by
 *   others, too large, not an identity file: the line, never its text)
 */
export async function loadIdentityFile(file: string): Promise<LoadedIdentity> {
  const path = resolve(file);
  const refuse = (why: string, cause?: unknown) =>
    new UsageError(`--identity ${path}: ${why}`, cause === undefined ? undefined : { cause });
  const handle = await open(path, 'r').catch((error: unknown) => {
    throw refuse(
      `${describeCode(error)}: give the file age-keygen wrote (AGE-SECRET-KEY-1…)`,
      error,
    );
  });
  try {
    const stats = await handle.stat();
    if (!stats.isFile()) throw refuse('it is not a regular file: give the identity file itself');
    if ((stats.mode & OTHERS_READ) !== 0) {
      throw refuse(
        `it is readable by every user of this machine (mode ${(stats.mode & 0o777).toString(8)}): it holds a private key; \`chmod 600 ${path}\` and run again`,
      );
    }
    if (stats.size > MAX_IDENTITY_FILE_BYTES) {
      throw refuse(
        `it holds ${stats.size} bytes, far more than an identity file (a few lines of AGE-SECRET-KEY-1…): give the file age-keygen wrote`,
      );
    }
    const text = await handle.readFile('utf8').catch((error: unknown) => {
      throw refuse(describeCode(error), error);
    });
    try {
      const source = `--identity ${path}`;
      return { path, source, identities: await parseIdentities(text, source) };
    } catch (error) {
      // Its message names the file and the line, never the key.
      if (error instanceof KeyFormatError) throw new UsageError(error.message, { cause: error });
      throw error;
    }
  } finally {
    await handle.close();
  }
}

/** The identity file when `--identity` was given, else `undefined` (plain backups need none). */
export async function loadIdentityOption(
  file: string | undefined,
): Promise<LoadedIdentity | undefined> {
  return file === undefined ? undefined : loadIdentityFile(file);
}
