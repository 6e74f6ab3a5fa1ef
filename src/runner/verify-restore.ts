/**
 * The first half of the restore drill: every object of a committed binary backup downloaded
 * and checked against its manifest (size and SHA-256), the tar archive decompressed and
 * extracted into an empty data directory, and `pg_verifybackup` of the backup's major version
 * run on it, which checks every file against the backup's own `backup_manifest` and parses the
 * WAL the backup needs.
 */
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { locatePgTool } from '../postgres/index.js';
import { lastLines } from '../postgres/tool-process.js';
import type { BackupManifest, CatalogEntry } from '../storage/index.js';
import type { ObjectDownloader } from '../storage/object-download.js';
import { VerificationError } from './verify-errors.js';
import { runProgram } from './verify-programs.js';

/** The program GNU tar runs (with `-d`) to decompress each compression the runner writes. */
const DECOMPRESSORS: Readonly<Record<string, string | undefined>> = {
  zstd: 'zstd',
  lz4: 'lz4',
  gzip: 'gzip',
  none: undefined,
};

/** What {@link restoreBackup} needs. */
export interface RestoreInput {
  readonly entry: CatalogEntry;
  readonly downloader: ObjectDownloader;
  /** Where the objects are downloaded to (removed once extracted). */
  readonly downloadDir: string;
  /** The data directory to fill: it exists and is empty (the caller creates it, or checked it). */
  readonly dataDir: string;
  readonly pgRoot: string | undefined;
}

/** The major version of the server a manifest describes, e.g. 15 for 150010. */
export function majorOf(manifest: BackupManifest): number {
  return Math.floor(manifest.server.versionNumber / 10_000);
}

/** GNU tar's arguments to extract `archive` into `dataDir`, decompressing with the manifest's compression. */
export function extractArguments(compression: string, archive: string, dataDir: string): string[] {
  if (!(compression in DECOMPRESSORS)) {
    throw new VerificationError(
      `the manifest names compression "${compression}", which this version cannot read (zstd, lz4, gzip or none): verify it with the pgbackup version that took it`,
    );
  }
  const program = DECOMPRESSORS[compression];
  return [
    '--extract',
    `--file=${archive}`,
    `--directory=${dataDir}`,
    ...(program === undefined ? [] : [`--use-compress-program=${program}`]),
  ];
}

async function extract(compression: string, archive: string, dataDir: string, name: string) {
  const outcome = await runProgram('tar', extractArguments(compression, archive, dataDir));
  if (outcome.status !== 0) {
    throw new VerificationError(
      `could not extract ${name} (${compression}) into ${dataDir} (${outcome.exit}):\n${lastLines(outcome.stderr, 10)}`,
    );
  }
}

/** Runs `pg_verifybackup` of the backup's major on the restored `dataDir`. */
export async function verifyBackup(input: RestoreInput): Promise<void> {
  const binary = await locatePgTool({
    tool: 'pg_verifybackup',
    major: majorOf(input.entry.manifest),
    root: input.pgRoot,
  });
  const outcome = await runProgram(binary, [input.dataDir]);
  if (outcome.status !== 0) {
    throw new VerificationError(
      `pg_verifybackup found the restored backup inconsistent with its backup_manifest (${outcome.exit}):\n${lastLines(outcome.stderr, 10)}`,
    );
  }
}

/**
 * Downloads, checks, extracts and verifies the backup into `dataDir`. Each object is checked
 * before it is extracted, and its archive removed once extracted; on failure what was already
 * extracted stays for the caller to remove (the drill removes its work directory, a restore
 * what it put in its target).
 *
 * @throws WrongIdentityError before anything is downloaded, when the backup is encrypted and
 *   the downloader holds no identity for it; ObjectMismatchError when an object differs from
 *   its manifest; TamperedObjectError when it matches but does not decrypt; VerificationError when
 *   the archive does not extract or pg_verifybackup fails; StorageError, ToolNotFoundError
 */
export async function restoreBackup(input: RestoreInput): Promise<void> {
  const { entry } = input;
  input.downloader.requireIdentity(entry);
  await mkdir(input.downloadDir, { recursive: true, mode: 0o700 });
  for (const object of entry.manifest.objects) {
    const archive = join(input.downloadDir, object.name);
    await input.downloader.download(
      `${entry.key}${object.name}`,
      archive,
      object,
      entry.manifest.encryption,
    );
    await extract(entry.manifest.compression, archive, input.dataDir, object.name);
    // The archive is not needed once extracted: the disk holds one copy at a time.
    await rm(archive, { force: true });
  }
  await verifyBackup(input);
}
