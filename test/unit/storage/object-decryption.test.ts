import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  type AgeIdentity,
  PAYLOAD_CHUNK_BYTES,
  TamperedObjectError,
  WrongIdentityError,
} from '../../../src/encryption/index.js';
import { type CatalogEntry, createLocalStore } from '../../../src/storage/index.js';
import {
  createObjectDownloader,
  ObjectMismatchError,
} from '../../../src/storage/object-download.js';
import { encrypt, newIdentity, patterned } from '../encryption/age-streams.js';

const KEY = 'k/base.tar.zst.age';

function digestOf(data: Buffer) {
  return { sizeBytes: data.length, sha256: createHash('sha256').update(data).digest('hex') };
}

let owner: AgeIdentity;
let stranger: AgeIdentity;
let plaintext: Buffer;
let stored: Buffer;

function entryFor(recipients: readonly string[] | undefined): CatalogEntry {
  // Only what the downloader reads of a manifest matters here.
  return {
    key: 'k/',
    manifest: {
      ...(recipients === undefined ? {} : { encryption: { format: 'age', recipients } }),
    },
  } as unknown as CatalogEntry;
}

beforeAll(async () => {
  owner = await newIdentity();
  stranger = await newIdentity();
  plaintext = patterned(3 * PAYLOAD_CHUNK_BYTES + 123);
  stored = await encrypt([owner], [plaintext]);
});

describe('an encrypted backup read back', () => {
  let dir: string;
  const encryption = () => ({ format: 'age' as const, recipients: [owner.fingerprint] });

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pgbackup-decrypt-'));
    await mkdir(join(dir, 'store', 'k'), { recursive: true });
    await writeFile(join(dir, 'store', KEY), stored);
  });

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const downloaderWith = (identities: readonly AgeIdentity[] | undefined) =>
    createObjectDownloader(
      createLocalStore(join(dir, 'store')),
      identities === undefined ? undefined : { identities, source: '--identity /keys/k.txt' },
    );

  it('is refused without an identity, naming the recipient and --identity FILE', () => {
    expect(() => downloaderWith(undefined).requireIdentity(entryFor([owner.fingerprint]))).toThrow(
      new WrongIdentityError(
        `the backup k/ is encrypted for recipient ${owner.fingerprint} and no identity was given: pass its age identity file with --identity FILE (in the cluster: the Secret named by spec.storage.encryption.identity, which the drill and the Restore mount). Nothing was downloaded or written`,
      ),
    );
  });

  it('is refused with another identity, naming both fingerprints and where the identity came from', () => {
    expect(() => downloaderWith([stranger]).requireIdentity(entryFor([owner.fingerprint]))).toThrow(
      `the backup k/ was encrypted for recipient ${owner.fingerprint}, and none of the given identities (--identity /keys/k.txt: for ${stranger.fingerprint}) is for it`,
    );
  });

  it('passes with one matching identity among several, and a plain backup with none', () => {
    expect(() =>
      downloaderWith([stranger, owner]).requireIdentity(entryFor([owner.fingerprint])),
    ).not.toThrow();
    expect(() => downloaderWith(undefined).requireIdentity(entryFor(undefined))).not.toThrow();
  });

  it('reads a plain backup as before when an identity is given', async () => {
    const plainKey = 'k/base.tar.zst';
    await writeFile(join(dir, 'store', plainKey), plaintext);
    const downloader = downloaderWith([owner]);
    const copy = join(dir, 'plain-copy');

    expect(() => downloader.requireIdentity(entryFor(undefined))).not.toThrow();
    await downloader.download(plainKey, copy, digestOf(plaintext));

    expect((await readFile(copy)).equals(plaintext)).toBe(true);
  });

  it('writes the plaintext, checking the stored bytes against the manifest', async () => {
    const copy = join(dir, 'copy');
    await downloaderWith([owner]).download(KEY, copy, digestOf(stored), encryption());

    expect((await readFile(copy)).equals(plaintext)).toBe(true);
  });

  /** Stores the object with one byte of its third chunk flipped; returns the changed bytes. */
  async function storeChanged(): Promise<Buffer> {
    const changed = Buffer.from(stored);
    changed[changed.length - 2000] = (changed[changed.length - 2000] ?? 0) ^ 1;
    await writeFile(join(dir, 'store', KEY), changed);
    return changed;
  }

  it('reports a changed byte as a manifest mismatch when the manifest has the original digest', async () => {
    await storeChanged();

    const copy = join(dir, 'copy');
    const download = downloaderWith([owner]).download(KEY, copy, digestOf(stored), encryption());

    await expect(download).rejects.toThrow(ObjectMismatchError);
    await expect(download).rejects.toThrow(`object ${KEY} does not match its manifest`);
  });

  it('reports a changed byte that matches a rewritten manifest as a failed authentication, passing on no unauthenticated byte', async () => {
    const changed = await storeChanged();

    const copy = join(dir, 'copy');
    const download = downloaderWith([owner]).download(KEY, copy, digestOf(changed), encryption());

    await expect(download).rejects.toThrow(TamperedObjectError);
    await expect(download).rejects.toThrow(`${KEY}: chunk 3 fails authentication`);
    // The two chunks before it authenticated; nothing of the third reached the file.
    expect((await stat(copy)).size).toBeLessThanOrEqual(2 * PAYLOAD_CHUNK_BYTES);
  });
});
