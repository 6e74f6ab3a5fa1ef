import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  fingerprintRecipient,
  KeyFormatError,
  parseIdentities,
  parseRecipients,
  requireMatchingIdentity,
  WrongIdentityError,
} from '../../../src/encryption/index.js';
import { newIdentity } from './age-streams.js';

/** A key as age-keygen prints it (the test vector of age's own documentation). */
const RECIPIENT = 'age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p';

describe('fingerprints', () => {
  it('are the first 8 bytes of the SHA-256 of the recipient text, in hex', () => {
    const expected = createHash('sha256').update(RECIPIENT).digest('hex').slice(0, 16);
    expect(fingerprintRecipient(RECIPIENT)).toBe(expected);
    expect(fingerprintRecipient(RECIPIENT)).toMatch(/^[0-9a-f]{16}$/);
  });
});

describe('recipients files', () => {
  it('read one key a line, skipping comments and blank lines', async () => {
    const other = await newIdentity();
    const text = `# orders, 2026\n${RECIPIENT}\n\n  ${other.recipient}  \r\n# end\n`;
    expect(parseRecipients(text, 'Secret "orders-age" key "recipients"')).toEqual([
      { recipient: RECIPIENT, fingerprint: fingerprintRecipient(RECIPIENT) },
      { recipient: other.recipient, fingerprint: other.fingerprint },
    ]);
  });

  it('refuse a file without a key, naming the source', () => {
    expect(() => parseRecipients('# nothing yet\n', 'ConfigMap "keys" key "age"')).toThrow(
      'ConfigMap "keys" key "age" holds no age public key',
    );
  });

  it.each([
    ['a mistyped character', RECIPIENT.replace('ql3z', 'ql4z'), /checksum does not match/],
    ['a lost character', RECIPIENT.slice(0, -1), /"age1" followed by 58 lowercase letters/],
    ['an SSH key', 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAA', /SSH keys are not accepted/],
    ['a post-quantum key', `age1pq1${'q'.repeat(1950)}`, /post-quantum recipients/],
  ])('refuse %s, naming the source and line', (_what, line, message) => {
    const parse = () => parseRecipients(`# keys\n${line}\n`, 'Secret "s" key "k"');
    expect(parse).toThrow(KeyFormatError);
    expect(parse).toThrow('Secret "s" key "k", line 2: ');
    expect(parse).toThrow(message);
  });

  it('refuse a private key without repeating it', async () => {
    const identity = await newIdentity();
    let message = '';
    try {
      parseRecipients(identity.secretKey, 'ConfigMap "keys" key "age"');
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/this is an age identity \(a private key\)/);
    expect(message).not.toContain(identity.secretKey.slice(16));
  });
});

describe('identity files', () => {
  it('read what age-keygen writes: comments and the secret key', async () => {
    const identity = await newIdentity();
    const text = `# created: 2026-12-03T17:00:00Z\n# public key: ${identity.recipient}\n${identity.secretKey}\n`;
    expect(await parseIdentities(text, 'Secret "orders-age" key "identity"')).toEqual([identity]);
  });

  it('refuse a file without an identity', async () => {
    await expect(parseIdentities('\n# empty\n', 'Secret "i" key "k"')).rejects.toThrow(
      'Secret "i" key "k" holds no age identity',
    );
  });

  it.each([
    ['a public key', RECIPIENT],
    ['a damaged secret key', 'AGE-SECRET-KEY-1QQQQ'],
    ['a post-quantum identity', 'AGE-SECRET-KEY-PQ-1QQQQ'],
  ])('refuse %s, naming the line and never the text', async (_what, line) => {
    const failure = parseIdentities(`# key\n${line}\n`, 'Secret "i" key "k"');
    await expect(failure).rejects.toThrow(KeyFormatError);
    await expect(failure).rejects.toThrow(
      /^Secret "i" key "k", line 2: not an age X25519 identity; it must be an "AGE-SECRET-KEY-1…" line/,
    );
    await expect(failure).rejects.not.toThrow(line);
  });
});

describe('the check of identities against a manifest, before any download', () => {
  it('passes when one identity is for a recipient the backup was made for', async () => {
    const recipient = await newIdentity();
    const context = {
      object: 'b',
      expectedFingerprints: ['0123456789abcdef', recipient.fingerprint],
    };
    const other = await newIdentity();
    expect(() => requireMatchingIdentity([other, recipient], context)).not.toThrow();
  });

  it('refuses other identities, naming the recipients needed and given', async () => {
    const given = await newIdentity();
    const context = { object: 'orders/manifest.json', expectedFingerprints: ['0123456789abcdef'] };
    expect(() => requireMatchingIdentity([given], context)).toThrow(WrongIdentityError);
    expect(() => requireMatchingIdentity([given], context)).toThrow(
      `orders/manifest.json was encrypted for recipient 0123456789abcdef, and the identity given is for ${given.fingerprint}`,
    );
  });

  it('refuses no identity at all, saying where to put one', () => {
    const context = { object: 'o', expectedFingerprints: ['0123456789abcdef'] };
    expect(() => requireMatchingIdentity([], context)).toThrow(
      'o is encrypted for recipient 0123456789abcdef and no identity was given',
    );
  });
});
