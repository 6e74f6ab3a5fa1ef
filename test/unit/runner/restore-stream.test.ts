/**
 * A binary restore's object extracted while it downloads (src/runner/restore-stream.ts), with
 * the real downloader (its SHA-256 check) over a store that serves bytes from memory, and the
 * real GNU tar and zstd reading the named pipe.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { extractWhileDownloading } from '../../../src/runner/restore-stream.js';
import type { RestoreInput } from '../../../src/runner/verify-restore.js';
import { StorageError } from '../../../src/storage/errors.js';
import type { ArtifactStore, CatalogEntry } from '../../../src/storage/index.js';
import { createObjectDownloader } from '../../../src/storage/object-download.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pgbackup-restore-stream-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A tar of two files (`base/1/16384` of 300 000 bytes and `PG_VERSION`), compressed or not. */
async function makeArchive(compression: 'zstd' | 'none'): Promise<Buffer> {
  const source = join(dir, 'source');
  await mkdir(join(source, 'base', '1'), { recursive: true });
  await writeFile(join(source, 'PG_VERSION'), '15\n');
  await writeFile(join(source, 'base', '1', '16384'), Buffer.alloc(300_000, 7));
  const archive = join(dir, 'archive');
  const compress = compression === 'zstd' ? ['--use-compress-program=zstd'] : [];
  execFileSync('tar', ['--create', `--file=${archive}`, ...compress, '-C', source, '.']);
  return readFile(archive);
}

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

/** A store serving `bytes` in chunks of `chunkBytes` (or failing to serve), and the input. */
async function restoreInput(
  compression: string,
  recorded: Buffer,
  served: Buffer | StorageError,
  chunkBytes = 64 * 1024,
) {
  const store = {
    description: 's3://unit-test',
    readObject: async () => {
      if (served instanceof StorageError) throw served;
      const chunks: Buffer[] = [];
      for (let at = 0; at < served.length; at += chunkBytes) {
        chunks.push(served.subarray(at, at + chunkBytes));
      }
      return Readable.from(chunks);
    },
  } as unknown as ArtifactStore;
  const object = { name: 'base.tar.zst', sizeBytes: recorded.length, sha256: sha256(recorded) };
  const entry = { key: 'backups/b1/', manifest: { compression, objects: [object] } };
  const downloadDir = join(dir, 'download');
  const dataDir = join(dir, 'data');
  await mkdir(downloadDir);
  await mkdir(dataDir);
  const input: RestoreInput = {
    entry: entry as unknown as CatalogEntry,
    downloader: createObjectDownloader(store),
    downloadDir,
    dataDir,
    pgRoot: undefined,
  };
  return { input, object, downloadDir, dataDir };
}

describe('extracting an object while it downloads', () => {
  it('extracts a zstd archive whose bytes match the manifest, and leaves no pipe behind', async () => {
    const archive = await makeArchive('zstd');
    const { input, object, downloadDir, dataDir } = await restoreInput('zstd', archive, archive);

    await extractWhileDownloading(input, object);

    expect(await readFile(join(dataDir, 'PG_VERSION'), 'utf8')).toBe('15\n');
    expect(
      (await readFile(join(dataDir, 'base', '1', '16384'))).equals(Buffer.alloc(300_000, 7)),
    ).toBe(true);
    expect(await readdir(downloadDir)).toEqual([]);
  });

  it('extracts an uncompressed archive that arrives in pieces smaller than a tar record', async () => {
    const archive = await makeArchive('none');
    const { input, object, dataDir } = await restoreInput('none', archive, archive, 1466);

    await extractWhileDownloading(input, object);

    expect((await readFile(join(dataDir, 'base', '1', '16384'))).length).toBe(300_000);
  });

  it('names the object and both SHA-256s when its bytes differ from the manifest', async () => {
    const archive = await makeArchive('zstd');
    const damaged = Buffer.from(archive);
    const middle = Math.floor(damaged.length / 2);
    damaged.writeUInt8(damaged.readUInt8(middle) ^ 0xff, middle);
    const { input, object } = await restoreInput('zstd', archive, damaged);

    await expect(extractWhileDownloading(input, object)).rejects.toThrow(
      `object backups/b1/base.tar.zst does not match its manifest: SHA-256 ${sha256(damaged)} where the manifest says ${object.sha256}`,
    );
  });

  it('says the archive does not extract when its bytes match the manifest but are no archive', async () => {
    const garbage = Buffer.alloc(50_000, 1);
    const { input, object, downloadDir } = await restoreInput('zstd', garbage, garbage);

    await expect(extractWhileDownloading(input, object)).rejects.toThrow(
      /^could not extract base\.tar\.zst \(zstd\) into .*\/data \(exit status 2\):\n.*/,
    );
    expect(await readdir(downloadDir)).toEqual([]);
  });

  it('fails with the store error, and does not wait for tar, when the object cannot be read', async () => {
    const archive = await makeArchive('zstd');
    const unreadable = new StorageError('could not read backups/b1/base.tar.zst: AccessDenied');
    const { input, object, downloadDir } = await restoreInput('zstd', archive, unreadable);

    await expect(extractWhileDownloading(input, object)).rejects.toBe(unreadable);
    expect(await readdir(downloadDir)).toEqual([]);
  });
});
