import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type AgeIdentity,
  createAgeEncrypter,
  openAgeStream,
  PAYLOAD_CHUNK_BYTES,
  parseIdentities,
  parseRecipients,
  WrongIdentityError,
} from '../../../src/encryption/index.js';
import { testPrefix, testS3Store } from '../../harness/s3.js';
import { generateKeyFile, requireAgeTools, runAge } from './age-tool.js';

let directory = '';
let first: { path: string; identity: AgeIdentity };
let second: { path: string; identity: AgeIdentity };

async function keyPair(name: string): Promise<{ path: string; identity: AgeIdentity }> {
  const file = await generateKeyFile(directory, name);
  const [identity] = await parseIdentities(file.text, name);
  if (identity === undefined) throw new Error(`${name} holds no identity`);
  return { path: file.path, identity };
}

async function encryptOurs(identities: readonly AgeIdentity[], plaintext: Buffer): Promise<Buffer> {
  return buffer(Readable.from([plaintext]).pipe(await createAgeEncrypter(identities)));
}

async function decryptOurs(
  identities: readonly AgeIdentity[],
  ciphertext: Buffer,
): Promise<Buffer> {
  const stream = await openAgeStream(Readable.from([ciphertext]), {
    identities,
    object: 'interop.age',
  });
  return buffer(stream);
}

function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

beforeAll(async () => {
  requireAgeTools();
  directory = await mkdtemp(join(tmpdir(), 'pgbackup-age-'));
  first = await keyPair('first.txt');
  second = await keyPair('second.txt');
});

afterAll(async () => {
  if (directory !== '') await rm(directory, { recursive: true, force: true });
});

describe("Debian's age and our streams", () => {
  it.each([
    ['empty', 0],
    ['one byte', 1],
    ['exactly one chunk', PAYLOAD_CHUNK_BYTES],
    ['several MiB', 3 * 1024 * 1024 + 17],
  ])('age -d -i key.txt decrypts what we wrote (%s)', async (_name, size) => {
    const plaintext = randomBytes(size);
    const ciphertext = await encryptOurs([first.identity], plaintext);
    const run = await runAge(['--decrypt', '--identity', first.path], ciphertext);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(sha256(run.stdout)).toBe(sha256(plaintext));
  });

  it('age -d decrypts what we wrote for two recipients with either key', async () => {
    const plaintext = randomBytes(200_000);
    const ciphertext = await encryptOurs([first.identity, second.identity], plaintext);
    for (const key of [first, second]) {
      const run = await runAge(['--decrypt', '--identity', key.path], ciphertext);
      expect(run.code).toBe(0);
      expect(run.stdout.equals(plaintext)).toBe(true);
    }
  });

  it('we decrypt what age -R wrote for a recipients file', async () => {
    const recipientsFile = join(directory, 'recipients.txt');
    const recipientsText = `# both keys\n${first.identity.recipient}\n${second.identity.recipient}\n`;
    await writeFile(recipientsFile, recipientsText, { mode: 0o600 });
    expect(parseRecipients(recipientsText, 'recipients.txt')).toHaveLength(2);
    const plaintext = randomBytes(2 * PAYLOAD_CHUNK_BYTES + 5);
    const run = await runAge(['--encrypt', '--recipients-file', recipientsFile], plaintext);
    expect(run.code).toBe(0);
    expect((await decryptOurs([second.identity], run.stdout)).equals(plaintext)).toBe(true);
    expect((await decryptOurs([first.identity], run.stdout)).equals(plaintext)).toBe(true);
  });

  it('age refuses what we wrote for another key, as we do', async () => {
    const ciphertext = await encryptOurs([first.identity], randomBytes(1000));
    const run = await runAge(['--decrypt', '--identity', second.path], ciphertext);
    expect(run.code).not.toBe(0);
    expect(run.stdout.length).toBe(0);
    expect(run.stderr).toMatch(/no identity matched any of the recipients/);
  });

  it('age refuses what we wrote once a payload byte is changed', async () => {
    const ciphertext = await encryptOurs([first.identity], randomBytes(1000));
    ciphertext[ciphertext.length - 20] = (ciphertext[ciphertext.length - 20] ?? 0) ^ 1;
    const run = await runAge(['--decrypt', '--identity', first.path], ciphertext);
    expect(run.code).not.toBe(0);
    expect(run.stderr).toMatch(/failed to decrypt and authenticate payload chunk/);
  });
});

describe('an encrypted object in the bucket', () => {
  const store = testS3Store();
  const key = `${testPrefix()}/base.tar.zst.age`;
  const marker = 'orders row 4711: Ada Lovelace, 12 Analytical Engine Lane';
  const plaintext = Buffer.concat([
    Buffer.from('PGDMP'),
    Buffer.from(marker.repeat(2000)),
    randomBytes(PAYLOAD_CHUNK_BYTES),
  ]);

  beforeAll(async () => {
    const writer = store.openObject(key, { partSizeBytes: 5 * 1024 * 1024 });
    const encrypter = await createAgeEncrypter([first.identity]);
    Readable.from([plaintext]).pipe(encrypter).pipe(writer.writable);
    await writer.stored;
  });

  it('reads back as ciphertext with the credentials that wrote it', async () => {
    const stored = await buffer(await store.readObject(key));
    expect(stored.subarray(0, 22).toString('latin1')).toBe('age-encryption.org/v1\n');
    expect(stored.includes('PGDMP')).toBe(false);
    expect(stored.includes('Lovelace')).toBe(false);
    expect(stored.length).toBeGreaterThan(plaintext.length);
  });

  it('decrypts with age from the downloaded bytes, and with our stream from the store', async () => {
    const stored = await buffer(await store.readObject(key));
    const run = await runAge(['--decrypt', '--identity', first.path], stored);
    expect(run.code).toBe(0);
    expect(run.stdout.equals(plaintext)).toBe(true);
    const stream = await openAgeStream(await store.readObject(key), {
      identities: [first.identity],
      object: key,
      expectedFingerprints: [first.identity.fingerprint],
    });
    expect((await buffer(stream)).equals(plaintext)).toBe(true);
  });

  it('refuses the wrong identity before any plaintext, naming the recipient it needs', async () => {
    const opening = openAgeStream(await store.readObject(key), {
      identities: [second.identity],
      object: key,
      expectedFingerprints: [first.identity.fingerprint],
    });
    await expect(opening).rejects.toThrow(WrongIdentityError);
    await expect(opening).rejects.toThrow(
      `${key} was encrypted for recipient ${first.identity.fingerprint}, and the identity given is for ${second.identity.fingerprint}`,
    );
  });
});
