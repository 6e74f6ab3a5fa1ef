/**
 * The local-volume artifact store: the same layout as the bucket, as directories under a
 * mount point (the PersistentVolumeClaim of `spec.binary.local`). The manifest is written to a
 * temporary name and renamed, so it appears whole or not at all.
 *
 * Commit order is durable, so that a node crash never leaves a manifest beside truncated
 * data: each data file is fsynced and renamed into place and its directory fsynced (when its
 * `stored` settles); the manifest is written to a temporary name, fsynced, renamed, and the
 * directories up to the root fsynced (when `commit` returns). A file system may otherwise
 * persist the manifest's rename before the data blocks it describes.
 */
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { createReadStream, createWriteStream, type Dirent, mkdirSync } from 'node:fs';
import {
  access,
  constants,
  mkdir,
  open,
  readdir,
  readFile,
  rename,
  rm,
  stat,
} from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import type { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import type { ArtifactStore, CleanupReport, ObjectWriter } from './artifact-store.js';
import { StorageError } from './errors.js';
import { MANIFEST_NAME } from './key-scheme.js';
import {
  type BackupManifest,
  type CatalogEntry,
  parseManifest,
  serializeManifest,
} from './manifest.js';

/** Creates a store rooted at `root`. */
export function createLocalStore(root: string): ArtifactStore {
  return new LocalStore(root);
}

async function walkFiles(dir: string): Promise<string[]> {
  let entries: Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const nested = await Promise.all(
    entries.map((entry) => {
      const path = join(dir, entry.name);
      return entry.isDirectory() ? walkFiles(path) : Promise.resolve([path]);
    }),
  );
  return nested.flat();
}

function ignoreMissing(error: unknown): void {
  if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
}

/** Flushes a file's data, or a directory's entries, to the device. */
async function fsyncPath(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Writes `text` to `path` and flushes it to the device before returning. */
async function writeFileDurably(path: string, text: string): Promise<void> {
  const handle = await open(path, 'w');
  try {
    await handle.writeFile(text);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

class LocalStore implements ArtifactStore {
  readonly description: string;

  constructor(private readonly root: string) {
    this.description = `local volume ${root}`;
  }

  private pathOf(key: string): string {
    return join(this.root, key);
  }

  private async attempt<T>(action: string, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOSPC') {
        throw new StorageError(
          `no space left on the ${this.description} (could not ${action}): the backup needs more room than is free there. Free space on it (lower spec.binary.local.keep, or remove files that are not backups) or give the runner a larger volume (spec.binary.local.claimName)`,
          { cause: error },
        );
      }
      const reason = error instanceof Error ? error.message : String(error);
      throw new StorageError(`could not ${action} on ${this.description}: ${reason}`, {
        cause: error,
      });
    }
  }

  async check(): Promise<void> {
    await this.attempt('write', async () => {
      await mkdir(this.root, { recursive: true });
      await access(this.root, constants.W_OK);
    });
  }

  openObject(key: string): ObjectWriter {
    const path = this.pathOf(key);
    const pending = `${path}.partial`;
    // Synchronous, once per backup: the stream opens its file as soon as it is created.
    mkdirSync(dirname(path), { recursive: true });
    const stream = createWriteStream(pending, { flags: 'w' });
    const stored = this.attempt(`write ${key}`, async () => {
      await finished(stream);
      // The data reaches the device before its name does, and the name before the manifest.
      await fsyncPath(pending);
      await rename(pending, path);
      await fsyncPath(dirname(path));
    });
    stored.catch(() => undefined);
    return {
      writable: stream,
      stored,
      abort: async () => {
        stream.destroy();
        await stored.catch(() => undefined);
        await rm(pending, { force: true });
        await rm(path, { force: true });
      },
    };
  }

  readObject(key: string): Promise<Readable> {
    return this.attempt(`read ${key}`, async () => {
      const stream = createReadStream(this.pathOf(key));
      // A missing or unreadable file fails here, not in the middle of the caller's pipeline.
      await once(stream, 'open');
      return stream;
    });
  }

  async commit(backupKey: string, manifest: BackupManifest): Promise<string> {
    const text = serializeManifest(manifest);
    const path = this.pathOf(`${backupKey}${MANIFEST_NAME}`);
    await this.attempt('write the manifest', async () => {
      await writeFileDurably(`${path}.partial`, text);
      await rename(`${path}.partial`, path);
      await this.fsyncUpToRoot(dirname(path));
    });
    return createHash('sha256').update(text).digest('hex');
  }

  /**
   * Fsyncs `dir` and each directory above it up to the root: a backup's directories were
   * made by this run, and until their parents are flushed a crash can take the committed
   * backup away while rotation's deletions of its predecessor survive.
   */
  private async fsyncUpToRoot(dir: string): Promise<void> {
    for (let current = dir; ; current = dirname(current)) {
      await fsyncPath(current);
      if (relative(this.root, current) === '' || dirname(current) === current) return;
    }
  }

  async listBackups(prefix: string): Promise<CatalogEntry[]> {
    const files = await this.attempt('list backups', () => walkFiles(this.pathOf(prefix)));
    const manifests = files.filter((file) => file.endsWith(`/${MANIFEST_NAME}`));
    const entries = await Promise.all(
      manifests.map(async (file) => {
        const manifest = parseManifest(await readFile(file, 'utf8'));
        const key = file
          .slice(this.root.length)
          .replace(/^\/+/, '')
          .slice(0, -MANIFEST_NAME.length);
        return manifest === undefined ? [] : [{ key, manifest }];
      }),
    );
    return entries.flat();
  }

  async deleteBackup(backupKey: string): Promise<void> {
    await this.attempt(`delete ${backupKey}`, async () => {
      await rm(this.pathOf(`${backupKey}${MANIFEST_NAME}`), { force: true });
      // The manifest's removal is on the device before any data goes: a crash in between
      // leaves manifest-less data (garbage for clean-up), never a manifest without its data.
      await fsyncPath(this.pathOf(backupKey)).catch(ignoreMissing);
      await rm(this.pathOf(backupKey), { recursive: true, force: true });
    });
  }

  async cleanUp(prefix: string, deadBeforeMs: number): Promise<CleanupReport> {
    const files = await this.attempt('list files', () => walkFiles(this.pathOf(prefix)));
    const committed = new Set(
      files.filter((file) => file.endsWith(`/${MANIFEST_NAME}`)).map((file) => dirname(file)),
    );
    const deletedObjects: string[] = [];
    for (const file of files) {
      if (committed.has(dirname(file))) continue;
      const { mtimeMs } = await stat(file);
      // A `.partial` file is what a run was writing; the lock alone does not prove that run
      // dead (it may have lost the lock and still be writing), only its age does.
      if (mtimeMs < deadBeforeMs) {
        await rm(file, { force: true });
        deletedObjects.push(file);
      }
    }
    return { abortedUploads: [], deletedObjects };
  }
}
