import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLocalStore, StorageError } from '../../../src/storage/index.js';
import {
  createObjectDownloader,
  describeMismatch,
  ObjectMismatchError,
} from '../../../src/storage/object-download.js';

const EXPECTED = { sizeBytes: 100, sha256: 'a'.repeat(64) };

describe('an object read back against its manifest', () => {
  it('matches when size and SHA-256 are those recorded', () => {
    expect(describeMismatch('k/base.tar.zst', EXPECTED, { ...EXPECTED })).toBeUndefined();
  });

  it('names the object and both checksums when a byte changed', () => {
    const actual = { sizeBytes: 100, sha256: 'b'.repeat(64) };

    expect(describeMismatch('k/base.tar.zst', EXPECTED, actual)).toBe(
      `object k/base.tar.zst does not match its manifest: SHA-256 ${'b'.repeat(64)} where the manifest says ${'a'.repeat(64)} (100 bytes as recorded). The stored backup is damaged; take a new backup, and check the bucket's storage`,
    );
  });

  it('names both sizes when the object was cut short', () => {
    const actual = { sizeBytes: 60, sha256: 'c'.repeat(64) };

    expect(describeMismatch('k/base.tar.zst', EXPECTED, actual)).toContain(
      '(60 bytes where the manifest says 100)',
    );
  });
});

describe('downloading an object through a store (a local volume here)', () => {
  const data = Buffer.from('base backup bytes');
  const recorded = {
    sizeBytes: data.length,
    sha256: createHash('sha256').update(data).digest('hex'),
  };
  let dir: string;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pgbackup-download-'));
    await mkdir(join(dir, 'store', 'k'), { recursive: true });
    await writeFile(join(dir, 'store', 'k', 'base.tar.zst'), data);
  });

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('writes the object and accepts it when it matches its manifest', async () => {
    const downloader = createObjectDownloader(createLocalStore(join(dir, 'store')));
    await downloader.download('k/base.tar.zst', join(dir, 'copy'), recorded);
    expect(await readFile(join(dir, 'copy'))).toEqual(data);
  });

  it('fails naming the object when it differs, and with a StorageError when it is missing', async () => {
    const downloader = createObjectDownloader(createLocalStore(join(dir, 'store')));
    const other = { ...recorded, sha256: 'd'.repeat(64) };
    await expect(downloader.download('k/base.tar.zst', join(dir, 'copy'), other)).rejects.toThrow(
      ObjectMismatchError,
    );
    const missing = downloader.download('k/gone.tar.zst', join(dir, 'copy'), recorded);
    await expect(missing).rejects.toThrow(StorageError);
    await expect(missing).rejects.toThrow('could not read k/gone.tar.zst');
  });
});
