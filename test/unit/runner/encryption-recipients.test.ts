import { describe, expect, it } from 'vitest';
import type { EncryptionSpec } from '../../../src/api/index.js';
import { fingerprintRecipient, KeyFormatError } from '../../../src/encryption/index.js';
import { type RecipientReader, RunError, resolveRecipients } from '../../../src/runner/index.js';
import { newIdentity } from '../encryption/age-streams.js';

/** A key as age-keygen prints it (the test vector of age's own documentation). */
const RECIPIENT = 'age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p';

/** Objects of a namespace held in memory: what the API would return for each. */
function readerOf(objects: Record<string, Record<string, string>>): RecipientReader {
  return {
    namespace: 'orders',
    readData: async (kind, name) => {
      const data = objects[`${kind}/${name}`];
      if (data === undefined) throw new Error(`get ${kind} orders/${name}: not found`);
      return data;
    },
  };
}

async function messageOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('expected a rejection');
}

describe('resolving the recipients of a policy', () => {
  it('uses inline keys as written, with their fingerprints', async () => {
    const spec: EncryptionSpec = { recipients: [{ publicKey: RECIPIENT }] };
    const resolved = await resolveRecipients(spec, undefined);
    expect(resolved.recipients).toEqual([
      { recipient: RECIPIENT, fingerprint: fingerprintRecipient(RECIPIENT) },
    ]);
    expect(resolved.fingerprints).toEqual([fingerprintRecipient(RECIPIENT)]);
  });

  it('reads several keys from a Secret and a ConfigMap, skipping comments, in order and without duplicates', async () => {
    const [a, b, c] = await Promise.all([newIdentity(), newIdentity(), newIdentity()]);
    if (a === undefined || b === undefined || c === undefined) throw new Error('no keys');
    const reader = readerOf({
      'Secret/backup-keys': { recipients: `# team a\n${a.recipient}\n\n${b.recipient}\n` },
      'ConfigMap/more-keys': { age: `  ${c.recipient}  \r\n# again\n${RECIPIENT}\n` },
    });
    const resolved = await resolveRecipients(
      {
        recipients: [
          { publicKey: RECIPIENT },
          { secretKeyRef: { name: 'backup-keys', key: 'recipients' } },
          { configMapKeyRef: { name: 'more-keys', key: 'age' } },
        ],
      },
      reader,
    );
    expect(resolved.recipients.map((recipient) => recipient.recipient)).toEqual([
      RECIPIENT,
      a.recipient,
      b.recipient,
      c.recipient,
    ]);
    expect(resolved.fingerprints).toEqual([
      fingerprintRecipient(RECIPIENT),
      a.fingerprint,
      b.fingerprint,
      c.fingerprint,
    ]);
  });

  it('refuses a private key pasted into a ConfigMap without repeating it, naming the object, key, field and line', async () => {
    const identity = await newIdentity();
    const reader = readerOf({
      'ConfigMap/keys': { recipients: `# ours\n${identity.secretKey}\n` },
    });
    const resolving = resolveRecipients(
      { recipients: [{ configMapKeyRef: { name: 'keys', key: 'recipients' } }] },
      reader,
    );
    await expect(resolving).rejects.toBeInstanceOf(KeyFormatError);
    const message = await messageOf(resolving);
    expect(message).toContain(
      'ConfigMap orders/keys key "recipients" (spec.storage.encryption.recipients[0].configMapKeyRef), line 2: ',
    );
    expect(message).toMatch(/this is an age identity \(a private key\)/);
    expect(message).not.toContain(identity.secretKey);
    expect(message).not.toContain(identity.secretKey.slice(16, 40));
  });

  it('refuses a mistyped key in a Secret, naming where it is', async () => {
    const reader = readerOf({ 'Secret/keys': { k: RECIPIENT.replace('ql3z', 'ql4z') } });
    const message = await messageOf(
      resolveRecipients({ recipients: [{ secretKeyRef: { name: 'keys', key: 'k' } }] }, reader),
    );
    expect(message).toMatch(/^Secret orders\/keys key "k" .*line 1: .*checksum does not match/);
  });

  it('refuses an inline key whose checksum fails, naming the field', async () => {
    const message = await messageOf(
      resolveRecipients(
        { recipients: [{ publicKey: RECIPIENT.replace('ql3z', 'ql4z') }] },
        undefined,
      ),
    );
    expect(message).toMatch(
      /^spec\.storage\.encryption\.recipients\[0\]\.publicKey: .*checksum does not match/,
    );
  });

  it.each([
    ['a missing key', { other: RECIPIENT }],
    ['an empty key', { recipients: '  \n' }],
  ])('refuses %s of the object, naming it and the field', async (_what, data) => {
    const reader = readerOf({ 'Secret/keys': data });
    const resolving = resolveRecipients(
      {
        recipients: [
          { publicKey: RECIPIENT },
          { secretKeyRef: { name: 'keys', key: 'recipients' } },
        ],
      },
      reader,
    );
    await expect(resolving).rejects.toBeInstanceOf(RunError);
    expect(await messageOf(resolving)).toBe(
      'Secret orders/keys has no "recipients" key (named by spec.storage.encryption.recipients[1].secretKeyRef): add the age public keys there, one a line, or correct the key\'s name',
    );
  });

  it('passes on a failure to read the object', async () => {
    const resolving = resolveRecipients(
      { recipients: [{ configMapKeyRef: { name: 'gone', key: 'k' } }] },
      readerOf({}),
    );
    expect(await messageOf(resolving)).toBe('get ConfigMap orders/gone: not found');
  });

  it.each([
    ['secretKeyRef', 'Secret', { secretKeyRef: { name: 'backup-keys', key: 'recipients' } }],
    [
      'configMapKeyRef',
      'ConfigMap',
      { configMapKeyRef: { name: 'backup-keys', key: 'recipients' } },
    ],
  ])('outside a cluster refuses a %s, naming the field and the fix', async (field, kind, entry) => {
    const resolving = resolveRecipients(
      { recipients: [{ publicKey: RECIPIENT }, entry] },
      undefined,
    );
    await expect(resolving).rejects.toBeInstanceOf(RunError);
    expect(await messageOf(resolving)).toBe(
      `spec.storage.encryption.recipients[1].${field} names ${kind} "backup-keys", which a run outside a cluster (-f) cannot read: write the public key inline as spec.storage.encryption.recipients[1].publicKey (\`age-keygen -y key.txt\` prints it)`,
    );
  });
});
