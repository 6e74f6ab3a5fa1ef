/**
 * The WAL store against MinIO: objects stored from files with their metadata, a listing that
 * pages past 1000 objects (and narrows to a name prefix), DeleteObjects in batches of 1000,
 * and a missing object told apart from a failure.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buffer } from 'node:stream/consumers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createWalStore,
  WalObjectNotFoundError,
  type WalStore,
  walKeyPrefix,
} from '../../../src/storage/index.js';
import { testBucket, testPrefix } from '../../harness/s3.js';
import { requireEnv } from '../../harness/variables.js';

/** More than one page of ListObjectsV2 and one DeleteObjects call. */
const COUNT = 1003;

function nameOf(index: number): string {
  return `0000000100000000${index.toString(16).toUpperCase().padStart(8, '0')}.zst`;
}

describe('the WAL store', () => {
  let dir: string;
  let file: string;
  let store: WalStore;
  const bytes = Buffer.from('compressed WAL, as far as this test is concerned\n');
  const sha256 = createHash('sha256').update(bytes).digest('hex');

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pgbackup-wal-store-'));
    file = join(dir, 'object');
    await writeFile(file, bytes);
    store = createWalStore(
      {
        bucket: testBucket(),
        region: requireEnv('AWS_REGION'),
        endpoint: requireEnv('PGBACKUP_S3_ENDPOINT'),
        forcePathStyle: true,
        credentialsSource: 'the environment',
      },
      walKeyPrefix({ prefix: testPrefix(), namespace: 'wal-tests', policy: 'store' }),
    );
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('stores a file with its SHA-256 and end LSN, and reads both back', async () => {
    await store.putFile('000000010000000000000001.zst.partial', file, {
      sha256,
      endLsn: '0/1000148',
    });
    expect(await store.head('000000010000000000000001.zst.partial')).toEqual({
      sha256,
      endLsn: '0/1000148',
      sizeBytes: bytes.length,
    });
    const read = await store.read('000000010000000000000001.zst.partial');
    expect(read.sha256).toBe(sha256);
    expect((await buffer(read.body)).equals(bytes)).toBe(true);
    await store.delete(['000000010000000000000001.zst.partial']);
  });

  it('answers a missing object as missing, not as a failure', async () => {
    expect(await store.head('000000010000000000000099.zst')).toBeUndefined();
    await expect(store.read('000000010000000000000099.zst')).rejects.toBeInstanceOf(
      WalObjectNotFoundError,
    );
  });

  it('lists past a page of 1000, narrows to a name prefix, and deletes in batches', async () => {
    const names = Array.from({ length: COUNT }, (_, index) => nameOf(index));
    for (let start = 0; start < names.length; start += 50) {
      await Promise.all(
        names.slice(start, start + 50).map((name) => store.putFile(name, file, { sha256 })),
      );
    }
    const listed = await store.list();
    expect(listed.map(({ name }) => name)).toEqual(names);
    expect(listed.every(({ sizeBytes }) => sizeBytes === bytes.length)).toBe(true);
    expect((await store.list('00000001000000000000000')).map(({ name }) => name)).toEqual(
      names.slice(0, 16),
    );
    await store.delete(names);
    expect(await store.list()).toEqual([]);
  }, 180_000);
});
