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
import { type ChildProcess, spawn } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { lastLines, toolEnvironment } from '../postgres/tool-process.js';
import type { BackupManifest } from '../storage/index.js';
import { VerificationError } from './verify-errors.js';
import { runProgram } from './verify-programs.js';
import { extractArguments, type RestoreInput, verifyBackup } from './verify-restore.js';

/** How much of tar's stderr is kept for the message. */
const KEEP_CHARS = 16 * 1024;

interface Extraction {
  readonly child: ChildProcess;
  /** tar's exit status (undefined when a signal ended it), and its stderr's tail. */
  readonly ended: Promise<{ status: number | undefined; stderr: string; killed: boolean }>;
}

/** Starts tar reading `archive` (the named pipe) into `dataDir`. */
function startExtraction(compression: string, archive: string, dataDir: string): Extraction {
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
  const ended = new Promise<{ status: number | undefined; stderr: string; killed: boolean }>(
    (resolve, reject) => {
      child.on('error', (error) =>
        reject(new Error(`cannot run tar: ${error.message}`, { cause: error })),
      );
      child.on('close', (code, signal) =>
        resolve({ status: code ?? undefined, stderr: stderr.trimEnd(), killed: signal !== null }),
      );
    },
  );
  return { child, ended };
}

async function makeFifo(path: string): Promise<void> {
  const outcome = await runProgram('mkfifo', ['-m', '0600', path]);
  if (outcome.status !== 0) {
    throw new VerificationError(
      `could not make the named pipe ${path} to extract through (${outcome.exit}): ${outcome.stderr}`,
    );
  }
}

/**
 * Downloads one object into tar. When tar fails (a damaged archive breaks the pipe under the
 * download), the object is read once more, to nowhere, to tell a damaged object (its
 * SHA-256 differs from the manifest's: that error wins) from an archive that does not extract.
 */
async function extractObject(
  input: RestoreInput,
  object: BackupManifest['objects'][number],
): Promise<void> {
  const { entry } = input;
  const key = `${entry.key}${object.name}`;
  const fifo = join(input.downloadDir, `${object.name}.pipe`);
  await makeFifo(fifo);
  try {
    const tar = startExtraction(entry.manifest.compression, fifo, input.dataDir);
    const downloadError = await input.downloader.download(key, fifo, object).then(
      () => undefined,
      (error: unknown) => error,
    );
    // A download that failed before it opened the pipe leaves tar waiting for a writer.
    if (downloadError !== undefined) tar.child.kill('SIGKILL');
    const extracted = await tar.ended;
    const tarFailed = !extracted.killed && extracted.status !== 0;
    if (tarFailed) {
      // Throws ObjectMismatchError when the object itself is damaged.
      await input.downloader.download(key, '/dev/null', object);
      throw new VerificationError(
        `could not extract ${object.name} (${entry.manifest.compression}) into ${input.dataDir} (exit status ${extracted.status}):\n${lastLines(extracted.stderr, 10)}`,
      );
    }
    if (downloadError !== undefined) throw downloadError;
  } finally {
    await rm(fifo, { force: true });
  }
}

/**
 * Restores the backup into `dataDir` (empty), extracting each object while it downloads, then
 * runs `pg_verifybackup`. On failure what was extracted stays for the caller to take back.
 *
 * @throws ObjectMismatchError when an object differs from its manifest (found once it was
 *   read whole: its files may be in `dataDir`); VerificationError when an archive does not
 *   extract or pg_verifybackup fails; StorageError, ToolNotFoundError
 */
export async function streamRestoreBackup(input: RestoreInput): Promise<void> {
  for (const object of input.entry.manifest.objects) await extractObject(input, object);
  await verifyBackup(input);
}
