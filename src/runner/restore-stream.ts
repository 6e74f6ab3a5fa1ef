/**
 * The fast path of `pgbackup restore` (binary): each object is extracted while it is
 * downloaded, as `aws s3 cp - | zstd -d | tar -x` would, instead of downloaded whole and then
 * extracted. The downloader writes into a named pipe in the download directory that GNU tar
 * reads, so its SHA-256 and size are still checked against the manifest on the way; the
 * object is known good only once it has all been read, so a mismatch is found after its files
 * were written, and the caller takes back the whole target (restore-binary.ts), which
 * therefore never holds a usable-looking data directory from a damaged backup. Then
 * `pg_verifybackup` checks every file against the backup's own `backup_manifest`, as before.
 * Nothing is written to disk twice, and download, decompression and extraction overlap.
 */
import { spawn } from 'node:child_process';
import { constants, open, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { lastLines, toolEnvironment } from '../postgres/tool-process.js';
import type { BackupManifest } from '../storage/index.js';
import { VerificationError } from './verify-errors.js';
import { runProgram } from './verify-programs.js';
import { extractArguments, type RestoreInput, verifyBackup } from './verify-restore.js';

/** How often a tar that waits for the pipe's writer is offered an empty one. */
const RELEASE_RETRY_MS = 20;

/** How much of tar's stderr is kept for the message. */
const KEEP_CHARS = 16 * 1024;

/** How tar ended: its exit status (undefined when a signal ended it), its stderr's tail. */
interface Extraction {
  readonly status: number | undefined;
  readonly stderr: string;
}

/** Starts tar reading `archive` (the named pipe) into `dataDir`. */
function startExtraction(
  compression: string,
  archive: string,
  dataDir: string,
): Promise<Extraction> {
  // A pipe gives tar short reads, which it takes for a damaged archive unless told to
  // gather whole records (the default on stdin only).
  const args = [...extractArguments(compression, archive, dataDir), '--read-full-records'];
  const child = spawn('tar', args, {
    stdio: ['ignore', 'ignore', 'pipe'],
    // Only what tar needs from the environment: never the bucket's keys.
    env: toolEnvironment(process.env, undefined),
  });
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-KEEP_CHARS);
  });
  return new Promise<Extraction>((resolve, reject) => {
    child.on('error', (error) =>
      reject(new Error(`cannot run tar: ${error.message}`, { cause: error })),
    );
    child.on('close', (code) => resolve({ status: code ?? undefined, stderr: stderr.trimEnd() }));
  });
}

async function makeFifo(path: string): Promise<void> {
  const outcome = await runProgram('mkfifo', ['-m', '0600', path]);
  if (outcome.status !== 0) {
    throw new VerificationError(
      `could not make the named pipe ${path} to extract through (${outcome.exit}): ${outcome.stderr}`,
    );
  }
}

/** Whether a download failed because its reader, tar, stopped reading (it exited). */
function brokePipe(error: unknown): boolean {
  const cause = error instanceof Error ? error.cause : undefined;
  return cause instanceof Error && 'code' in cause && cause.code === 'EPIPE';
}

/**
 * Lets a tar waiting for a writer of the pipe (a download that failed before it opened it)
 * see an empty archive and end: the pipe is opened for writing and closed again until tar
 * has ended, since tar may not have opened it yet.
 */
async function releaseReader(fifo: string, tar: Promise<Extraction>): Promise<void> {
  let ended = false;
  const settled = tar.then(
    () => undefined,
    () => undefined,
  );
  void settled.then(() => {
    ended = true;
  });
  while (!ended) {
    try {
      const handle = await open(fifo, constants.O_WRONLY | constants.O_NONBLOCK);
      await handle.close();
    } catch {
      // ENXIO: no reader yet.
    }
    await Promise.race([settled, sleep(RELEASE_RETRY_MS)]);
  }
}

/**
 * Downloads one object into tar. When tar stopped reading early (it failed on a damaged
 * archive, or ended at the archive's end marker before the object's last bytes), the object
 * is read once more, to nowhere, for its SHA-256: a damaged object's mismatch wins over tar's
 * complaint, and an object tar did not read to its end is still checked whole.
 */
export async function extractWhileDownloading(
  input: RestoreInput,
  object: BackupManifest['objects'][number],
): Promise<void> {
  const { entry } = input;
  const key = `${entry.key}${object.name}`;
  const fifo = join(input.downloadDir, `${object.name}.pipe`);
  await makeFifo(fifo);
  try {
    const tar = startExtraction(entry.manifest.compression, fifo, input.dataDir);
    // Awaited below; until then a tar that cannot start must not count as unhandled.
    tar.catch(() => undefined);
    const { encryption } = entry.manifest;
    const downloadError = await input.downloader.download(key, fifo, object, encryption).then(
      () => undefined,
      (error: unknown) => error,
    );
    if (downloadError !== undefined && !brokePipe(downloadError)) {
      // The store failed: whatever tar made of the bytes so far, this is the error.
      await releaseReader(fifo, tar);
      throw downloadError;
    }
    const extracted = await tar;
    // Throws ObjectMismatchError when the object itself is damaged.
    if (downloadError !== undefined) {
      await input.downloader.download(key, '/dev/null', object, encryption);
    }
    if (extracted.status !== 0) {
      throw new VerificationError(
        `could not extract ${object.name} (${entry.manifest.compression}) into ${input.dataDir} (${extracted.status === undefined ? 'ended by a signal' : `exit status ${extracted.status}`}):\n${lastLines(extracted.stderr, 10)}`,
      );
    }
  } finally {
    await rm(fifo, { force: true });
  }
}

/**
 * Restores the backup into `dataDir` (empty), extracting each object while it downloads, then
 * runs `pg_verifybackup`. On failure what was extracted stays for the caller to take back.
 *
 * @throws WrongIdentityError before anything is downloaded, when the backup is encrypted and
 *   the downloader holds no identity for it
 * @throws ObjectMismatchError when an object differs from its manifest (found once it was
 *   read whole: its files may be in `dataDir`); TamperedObjectError when it matches but does
 *   not decrypt; VerificationError when an archive does not
 *   extract or pg_verifybackup fails; StorageError, ToolNotFoundError
 */
export async function streamRestoreBackup(input: RestoreInput): Promise<void> {
  input.downloader.requireIdentity(input.entry);
  for (const object of input.entry.manifest.objects) await extractWhileDownloading(input, object);
  await verifyBackup(input);
}
