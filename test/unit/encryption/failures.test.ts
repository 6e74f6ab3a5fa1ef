import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import {
  createAgeDecrypter,
  HEADER_OPENED_EVENT,
  PAYLOAD_CHUNK_BYTES,
  TamperedObjectError,
  WrongIdentityError,
} from '../../../src/encryption/index.js';
import { decrypt, encrypt, newIdentity, patterned } from './age-streams.js';

const CHUNK = PAYLOAD_CHUNK_BYTES;

/** Where the payload begins: after the header's MAC line and the 16-byte nonce. */
function payloadStart(ciphertext: Buffer): number {
  const macLine = ciphertext.indexOf('\n--- ');
  return ciphertext.indexOf('\n', macLine + 1) + 1 + 16;
}

function flipped(data: Buffer, index: number): Buffer {
  const copy = Buffer.from(data);
  copy[index] = (copy[index] ?? 0) ^ 0x01;
  return copy;
}

// Megabytes of ChaCha20 on a loaded CI machine can take longer than the default 5 s.
describe('age decryption refuses', { timeout: 60_000 }, () => {
  it('a wrong identity, naming the recipient the object was made for and the one given', async () => {
    const recipient = await newIdentity();
    const wrong = await newIdentity();
    const ciphertext = await encrypt([recipient], [patterned(100)]);
    const failure = decrypt([wrong], [ciphertext], [recipient.fingerprint]);
    await expect(failure).rejects.toThrow(WrongIdentityError);
    await expect(failure).rejects.toThrow(
      `orders/base.tar.zst.age was encrypted for recipient ${recipient.fingerprint}, and the identity given is for ${wrong.fingerprint}`,
    );
  });

  it('wrong identities for an object of two recipients, naming all of them', async () => {
    const [first, second, third, fourth] = await Promise.all([1, 2, 3, 4].map(() => newIdentity()));
    if (!first || !second || !third || !fourth) throw new Error('no identities');
    const ciphertext = await encrypt([first, second], [patterned(100)]);
    const expected = [first.fingerprint, second.fingerprint];
    await expect(decrypt([third, fourth], [ciphertext], expected)).rejects.toThrow(
      `was encrypted for recipients ${expected.join(', ')}, and the identities given are for ${third.fingerprint}, ${fourth.fingerprint}`,
    );
  });

  it('a wrong identity when no manifest names the recipients, saying so', async () => {
    const ciphertext = await encrypt([await newIdentity()], [patterned(100)]);
    await expect(decrypt([await newIdentity()], [ciphertext])).rejects.toThrow(
      /encrypted for a recipient whose identity was not given/,
    );
  });

  it('a missing identity, saying where to put one', async () => {
    const recipient = await newIdentity();
    const ciphertext = await encrypt([recipient], [patterned(100)]);
    await expect(decrypt([], [ciphertext], [recipient.fingerprint])).rejects.toThrow(
      `orders/base.tar.zst.age is encrypted for recipient ${recipient.fingerprint} and no identity was given: name a Secret holding its age identity in spec.storage.encryption.identity`,
    );
  });

  it('a wrong identity before it produces any plaintext', async () => {
    const ciphertext = await encrypt([await newIdentity()], [patterned(3 * CHUNK)]);
    const decrypter = createAgeDecrypter({
      identities: [await newIdentity()],
      object: 'base.tar.age',
    });
    let opened = false;
    let plaintextBytes = 0;
    decrypter.on(HEADER_OPENED_EVENT, () => {
      opened = true;
    });
    decrypter.on('data', (chunk: Buffer) => {
      plaintextBytes += chunk.length;
    });
    const failed = new Promise((resolve) => decrypter.on('error', resolve));
    Readable.from([ciphertext]).pipe(decrypter);
    expect(await failed).toBeInstanceOf(WrongIdentityError);
    expect({ opened, plaintextBytes }).toEqual({ opened: false, plaintextBytes: 0 });
  });

  it.each([
    ['the first chunk', 10],
    ['the middle chunk', CHUNK + 16 + 10],
    ['the last chunk', 2 * (CHUNK + 16) + 3],
    ['a tag', CHUNK + 5],
  ])('a flipped byte in %s of the payload', async (_where, offset) => {
    const identity = await newIdentity();
    const ciphertext = await encrypt([identity], [patterned(2 * CHUNK + 100)]);
    const tampered = flipped(ciphertext, payloadStart(ciphertext) + offset);
    await expect(decrypt([identity], [tampered])).rejects.toThrow(TamperedObjectError);
    await expect(decrypt([identity], [tampered])).rejects.toThrow(
      /fails authentication: the object was (cut short, )?changed or damaged after it was written; restore another backup/,
    );
  });

  it('a flipped byte in the payload nonce', async () => {
    const identity = await newIdentity();
    const ciphertext = await encrypt([identity], [patterned(500)]);
    const tampered = flipped(ciphertext, payloadStart(ciphertext) - 3);
    await expect(decrypt([identity], [tampered])).rejects.toThrow(TamperedObjectError);
  });

  it('a flipped byte in the header MAC', async () => {
    const identity = await newIdentity();
    const ciphertext = await encrypt([identity], [patterned(500)]);
    // Another base64 letter in the middle of the MAC: still well formed, no longer the MAC.
    const index = ciphertext.indexOf('\n--- ') + 5 + 10;
    const tampered = Buffer.from(ciphertext);
    tampered[index] = tampered[index] === 0x41 ? 0x42 : 0x41;
    await expect(decrypt([identity], [tampered])).rejects.toThrow(
      /the age header is not valid \(invalid header HMAC\): the object was changed or damaged/,
    );
  });

  it('a flipped byte in its stanza, as tampering when the manifest names the identity', async () => {
    const identity = await newIdentity();
    const ciphertext = await encrypt([identity], [patterned(500)]);
    // The stanza body: the line after "-> X25519 <share>".
    const body = ciphertext.indexOf('\n', ciphertext.indexOf('-> X25519')) + 5;
    const tampered = flipped(ciphertext, body);
    await expect(decrypt([identity], [tampered], [identity.fingerprint])).rejects.toThrow(
      TamperedObjectError,
    );
  });

  it('a header that is not age at all', async () => {
    const identity = await newIdentity();
    await expect(decrypt([identity], [Buffer.from('PGDMP\n--- x\nrest')])).rejects.toThrow(
      /the age header is not valid \(invalid version/,
    );
  });

  it('an object without a header end', async () => {
    const identity = await newIdentity();
    await expect(decrypt([identity], [Buffer.alloc(100 * 1024, 0x41)])).rejects.toThrow(
      /no age header in its first 65536 bytes/,
    );
  });

  it.each([
    ['inside the header', (header: number) => header - 10],
    ['inside the nonce', (header: number) => header + 4],
    ['after the nonce', (header: number) => header + 16],
    ['inside a chunk', (header: number) => header + 16 + 1000],
    ['at a chunk boundary', (header: number) => header + 16 + CHUNK + 16],
    ['before the last chunk', (header: number) => header + 16 + 2 * (CHUNK + 16)],
  ])('a stream cut short %s', async (_where, cutAt) => {
    const identity = await newIdentity();
    const ciphertext = await encrypt([identity], [patterned(2 * CHUNK + 100)]);
    const header = payloadStart(ciphertext) - 16;
    const truncated = ciphertext.subarray(0, cutAt(header));
    await expect(decrypt([identity], [truncated])).rejects.toThrow(TamperedObjectError);
    await expect(decrypt([identity], [truncated])).rejects.toThrow(/cut short/);
  });

  it('an appended empty last chunk after full ones', async () => {
    const identity = await newIdentity();
    const ciphertext = await encrypt([identity], [patterned(CHUNK)]);
    // A full chunk sealed as last, then 16 more bytes: the full chunk is opened as not-last.
    const extended = Buffer.concat([ciphertext, Buffer.alloc(16)]);
    await expect(decrypt([identity], [extended])).rejects.toThrow(TamperedObjectError);
  });
});
