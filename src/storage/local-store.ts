/**
 * The local-volume artifact store: the same layout as the bucket, as directories under a
 * mount point (the PersistentVolumeClaim of `spec.binary.local`). The manifest is written to a
 * temporary name and renamed, so it appears whole or not at all.
 */
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { createReadStream, createWriteStream, type Dirent, mkdirSync } from 'node:fs';
import {
  access,
  constants,
  mkdir,
  readdir,
  readFile,
  rename,
  rm,
  stat,
  writeFile,
} from 'node:fs/promises';
import { dirname, join } from 'node:path';
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
      await rename(pending, path);
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
      await writeFile(`${path}.partial`, text);
      await rename(`${path}.partial`, path);
    });
    return createHash('sha256').update(text).digest('hex');
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
