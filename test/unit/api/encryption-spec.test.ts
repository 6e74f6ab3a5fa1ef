import { generateX25519Identity, identityToRecipient } from 'age-encryption';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  BECH32_CHARSET,
  describeRecipientProblem,
  formatIssues,
  isAgeRecipient,
  parseBackupPolicy,
} from '../../../src/api/index.js';
import { loadFixture } from '../../fixtures/policies/load-fixtures.js';

const minimal = loadFixture('test/fixtures/policies/minimal.yaml').doc as {
  spec: { storage: Record<string, unknown> };
};

function withEncryption(encryption: unknown) {
  const doc = structuredClone(minimal);
  doc.spec.storage.encryption = encryption;
  return parseBackupPolicy(doc);
}

async function newRecipient(): Promise<string> {
  return identityToRecipient(await generateX25519Identity());
}

describe('spec.storage.encryption', () => {
  it('accepts recipients inline, from a Secret and from a ConfigMap, and an identity', async () => {
    const encryption = {
      recipients: [
        { publicKey: await newRecipient() },
        { secretKeyRef: { name: 'backup-keys', key: 'recipients' } },
        { configMapKeyRef: { name: 'backup-keys', key: 'recipients.txt' } },
      ],
      identity: { secretKeyRef: { name: 'backup-identity', key: 'key.txt' } },
    };
    const result = withEncryption(encryption);
    expect(result.issues).toBeUndefined();
    expect(result.value?.spec.storage?.encryption).toEqual(encryption);
  });

  it('is optional: a policy without it stores objects plain', () => {
    const result = parseBackupPolicy(minimal);
    expect(result.ok).toBe(true);
    expect(result.value?.spec.storage?.encryption).toBeUndefined();
  });

  it('refuses a private key as a recipient without echoing it', () => {
    const secret = 'AGE-SECRET-KEY-1GFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPQ4EGAEX';
    const result = withEncryption({ recipients: [{ publicKey: secret }] });
    const text = formatIssues('BackupPolicy', 'minimal', result.issues ?? []);
    expect(text).toContain(
      'BackupPolicy "minimal": spec.storage.encryption.recipients[0].publicKey: Invalid value: this is an age identity (a private key)',
    );
    expect(text).not.toContain('GFPYYSJZ');
  });

  it('refuses a recipient with no source, naming the item', () => {
    const result = withEncryption({ recipients: [{}] });
    expect(result.issues).toEqual([
      {
        path: 'spec.storage.encryption.recipients[0]',
        message: 'Invalid value: set exactly one of publicKey, secretKeyRef and configMapKeyRef',
      },
    ]);
  });

  it.each([
    ['a post-quantum key', `age1pq1${'q'.repeat(1950)}`, /post-quantum recipients \(age1pq1…\)/],
    [
      'an uppercase key',
      'AGE1QL3Z7HJY54PW3HYWW5AYYFG7ZQGVC7W3J2ELW8ZMRJ2KG5SFN9AQMCAC8P',
      /lowercase/,
    ],
  ])('refuses %s with one message for the field', (_what, publicKey, message) => {
    const result = withEncryption({ recipients: [{ publicKey }] });
    expect(result.issues).toHaveLength(1);
    expect(result.issues?.[0]?.path).toBe('spec.storage.encryption.recipients[0].publicKey');
    expect(result.issues?.[0]?.message).toMatch(message);
  });
});

describe('the Bech32 check of age public keys', () => {
  it('accepts the keys age generates', async () => {
    for (let key = 0; key < 20; key += 1) {
      const recipient = await newRecipient();
      expect(isAgeRecipient(recipient)).toBe(true);
      expect(describeRecipientProblem(recipient)).toBeUndefined();
    }
  });

  it('refuses every change of one character', async () => {
    const recipient = await newRecipient();
    await fc.assert(
      fc.property(
        fc.integer({ min: 4, max: recipient.length - 1 }),
        fc.constantFrom(...BECH32_CHARSET),
        (index, character) => {
          fc.pre(recipient[index] !== character);
          const changed = `${recipient.slice(0, index)}${character}${recipient.slice(index + 1)}`;
          expect(isAgeRecipient(changed)).toBe(false);
          expect(describeRecipientProblem(changed)).toMatch(/checksum does not match/);
        },
      ),
    );
  });
});
