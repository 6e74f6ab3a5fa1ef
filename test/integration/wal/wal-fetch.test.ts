/**
 * `pgbackup wal-fetch` against MinIO: each compression decompresses to the bytes stored, a
 * history file and the newest partial are served, and the failures recovery must tell apart
 * are told apart: a file the bucket lacks exits 1 with one line; a damaged object and an
 * unreachable bucket exit 126 (recovery stops) and leave no destination file behind.
 */
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync, zstdCompressSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WalStore } from '../../../src/storage/index.js';
import { runEnvironment, startPgbackup } from '../../harness/pgbackup-run.js';
import { type WalPolicy, walStoreOf, writeWalPolicy } from './receiver-harness.js';

const TL1 = (segment: number) => `00000001000000000000000${segment}`;

/** A segment's worth of test bytes: data, then the zeros a partial is padded with. */
const SEGMENT = Buffer.concat([randomBytes(256 * 1024), Buffer.alloc(768 * 1024)]);

function lz4(bytes: Buffer): Buffer {
  return spawnSync('lz4', ['-q', '-c'], { input: bytes, maxBuffer: 64 * 1024 * 1024 }).stdout;
}

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

async function fetchWal(policy: WalPolicy, file: string, destination: string) {
  return startPgbackup(['wal-fetch', file, destination, '-f', policy.file], runEnvironment())
    .outcome;
}

describe('pgbackup wal-fetch', () => {
  let dir: string;
  let policy: WalPolicy;
  let store: WalStore;

  async function put(name: string, stored: Buffer, claimed = sha256(stored)): Promise<void> {
    const path = join(dir, `upload-${name}`);
    await writeFile(path, stored);
    await store.putFile(name, path, { sha256: claimed });
  }

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pgbackup-wal-fetch-'));
    policy = await writeWalPolicy({ hosts: ['127.0.0.1:5432'], name: 'fetch' });
    store = walStoreOf(policy);
    await put(`${TL1(1)}.zst`, zstdCompressSync(SEGMENT));
    await put(`${TL1(2)}.gz`, gzipSync(SEGMENT));
    await put(`${TL1(3)}.lz4`, lz4(SEGMENT));
    await put(TL1(4), SEGMENT);
    // Segment 5 has a leftover partial beside its completed object; 6 is being written.
    await put(`${TL1(5)}.zst.partial`, zstdCompressSync(SEGMENT));
    await put(`${TL1(5)}.zst`, zstdCompressSync(SEGMENT));
    await put(`${TL1(6)}.zst.partial`, zstdCompressSync(SEGMENT));
    await put('00000002.history', Buffer.from('1\t0/6000100\tno recovery target specified\n'));
  }, 60_000);

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('serves each compression as the bytes stored, and a history file', async () => {
    for (const segment of [1, 2, 3, 4, 5]) {
      const destination = join(dir, `RECOVERYXLOG-${segment}`);
      const outcome = await fetchWal(policy, TL1(segment), destination);
      expect(outcome.code, outcome.stderr).toBe(0);
      expect((await readFile(destination)).equals(SEGMENT)).toBe(true);
    }
    const history = join(dir, 'RECOVERYHISTORY');
    const outcome = await fetchWal(policy, '00000002.history', history);
    expect(outcome.code, outcome.stderr).toBe(0);
    expect(await readFile(history, 'utf8')).toContain('0/6000100');
  }, 120_000);

  it('serves the newest partial under its segment’s name, and says so', async () => {
    const destination = join(dir, 'RECOVERYXLOG-partial');
    const outcome = await fetchWal(policy, TL1(6), destination);
    expect(outcome.code, outcome.stderr).toBe(0);
    expect(outcome.stderr).toContain(`${TL1(6)}.zst.partial`);
    expect((await readFile(destination)).equals(SEGMENT)).toBe(true);
  }, 60_000);

  it('exits 1 with one short line for a file the bucket lacks', async () => {
    const destination = join(dir, 'RECOVERYXLOG-missing');
    for (const file of [TL1(8), '00000003.history']) {
      const outcome = await fetchWal(policy, file, destination);
      expect(outcome.code).toBe(1);
      expect(outcome.stderr.trim().split('\n')).toEqual([
        `pgbackup wal-fetch: ${file} is not in the bucket`,
      ]);
    }
    await expect(readFile(destination)).rejects.toThrow();
  }, 60_000);

  it('exits 126 for a damaged object, naming it, and leaves nothing at the destination', async () => {
    const destination = join(dir, 'damaged', 'RECOVERYXLOG');
    await rm(join(dir, 'damaged'), { recursive: true, force: true });
    await mkdir(join(dir, 'damaged'));
    // Stored bytes that do not match the SHA-256 they were stored with (in a bucket of their
    // own: newer WAL beside the partial above would keep it from being served).
    const damaged = await writeWalPolicy({ hosts: ['127.0.0.1:5432'], name: 'fetch-damaged' });
    const path = join(dir, 'upload-damaged');
    await writeFile(path, zstdCompressSync(SEGMENT));
    await walStoreOf(damaged).putFile(`${TL1(7)}.zst`, path, {
      sha256: sha256(Buffer.from('other bytes')),
    });
    const outcome = await fetchWal(damaged, TL1(7), destination);
    expect(outcome.code).toBe(126);
    expect(outcome.stderr).toMatch(
      new RegExp(`${TL1(7)}\\.zst .* is damaged: its bytes have SHA-256`),
    );
    expect(await readdir(join(dir, 'damaged'))).toEqual([]);
  }, 60_000);

  it('exits 126 when the bucket cannot be reached, so recovery stops instead of ending early', async () => {
    const unreachable = await writeWalPolicy({
      hosts: ['127.0.0.1:5432'],
      name: 'fetch',
      endpoint: 'http://127.0.0.1:9',
    });
    const destination = join(dir, 'RECOVERYXLOG-unreachable');
    const outcome = await fetchWal(unreachable, TL1(1), destination);
    expect(outcome.code).toBe(126);
    expect(outcome.stderr).toContain(`could not fetch ${TL1(1)}`);
    await expect(readFile(destination)).rejects.toThrow();
  }, 120_000);
});
