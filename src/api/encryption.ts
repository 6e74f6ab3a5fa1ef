/**
 * `spec.storage.encryption`: client-side encryption in the age format. Backups are written
 * for public keys (recipients), which the backup pods hold; only restores and drills get the
 * private key (the identity), so a backup pod can write backups but never read them.
 */
import * as z from 'zod';
import { BECH32_CHARSET, isBech32 } from './bech32.js';
import { type CrossFieldRule, withRules } from './cross-field-rule.js';
import { closedObject, objectName } from './fields.js';

/**
 * An age X25519 public key as `age-keygen` prints it: `age1` and 58 Bech32 characters
 * (32 bytes and a checksum). The API server checks this shape; zod checks the checksum too.
 */
export const AGE_RECIPIENT_PATTERN = new RegExp(`^age1[${BECH32_CHARSET}]{58}$`);

/**
 * A recipient's fingerprint: the first 8 bytes of the SHA-256 of the recipient string
 * (`age1…`), in hex. Manifests record these, since an age header does not name the keys a
 * file was encrypted for.
 */
export const FINGERPRINT_PATTERN = /^[0-9a-f]{16}$/;

/** The most recipients one policy encrypts for (each adds a stanza to every object). */
export const MAX_RECIPIENTS = 16;

/** Longer than any age or SSH public key, so the specific messages below can be given. */
const MAX_PUBLIC_KEY_LENGTH = 4096;

/** A key of a Secret's or ConfigMap's data, as Kubernetes allows them. */
const DATA_KEY_PATTERN = /^[-._a-zA-Z0-9]+$/;

/** Whether an inline public key is the checksum-valid age X25519 key its shape promises. */
export function isAgeRecipient(text: string): boolean {
  return AGE_RECIPIENT_PATTERN.test(text) && isBech32(text, 'age', 32);
}

/**
 * What is wrong with a recipient written in a Secret or ConfigMap (where the API server
 * cannot check it), in the words of the policy's own rules; `undefined` when it is usable.
 * Never repeats the text, which may be a private key pasted by mistake.
 */
export function describeRecipientProblem(text: string): string | undefined {
  if (text.startsWith('AGE-SECRET-KEY-')) return PRIVATE_KEY_MESSAGE;
  if (text.startsWith('ssh-')) return SSH_KEY_MESSAGE;
  if (text.startsWith('age1pq1')) return POST_QUANTUM_MESSAGE;
  if (!AGE_RECIPIENT_PATTERN.test(text)) return SHAPE_MESSAGE;
  if (!isBech32(text, 'age', 32)) return CHECKSUM_MESSAGE;
  return undefined;
}

const PRIVATE_KEY_MESSAGE =
  'this is an age identity (a private key), which must never be where backups are written from: put its public key here (`age-keygen -y key.txt` prints it), the identity in the Secret named by spec.storage.encryption.identity, and consider the key exposed';
const SSH_KEY_MESSAGE =
  'SSH keys are not accepted as recipients: create an age key with `age-keygen -o key.txt` and give its public key (age1…)';
const POST_QUANTUM_MESSAGE =
  "post-quantum recipients (age1pq1…) are not accepted yet: Debian's age 1.1, the stock tool for restoring by hand, cannot decrypt them; give an X25519 key from `age-keygen` (age1…)";
const SHAPE_MESSAGE =
  'must be an age public key: "age1" followed by 58 lowercase letters and digits, as `age-keygen -y key.txt` prints it';
const CHECKSUM_MESSAGE =
  'is not a valid age public key: its checksum does not match, so a character was mistyped; copy it again from `age-keygen -y key.txt`';

function keyReference(kind: 'Secret' | 'ConfigMap', holds: string) {
  return closedObject({
    name: objectName(`Name of the ${kind}, in the same namespace as the policy.`),
    key: z
      .string()
      .min(1)
      .max(253)
      .regex(DATA_KEY_PATTERN, {
        error: 'must be a data key of the object: letters, digits, "-", "_" and "."',
      })
      .describe(`Key of the ${kind}'s data that holds ${holds}.`),
  }).describe(`A key of a ${kind} in the policy's namespace that holds ${holds}.`);
}

const RECIPIENTS_FILE =
  'one or more age public keys, one a line, as `age -R` reads them (lines starting with "#" are comments)';

type RecipientSource = {
  publicKey?: string | undefined;
  secretKeyRef?: unknown;
  configMapKeyRef?: unknown;
};

function startsWith(recipient: RecipientSource, prefix: string): boolean {
  return recipient.publicKey?.startsWith(prefix) === true;
}

/**
 * The rules on one recipient. Written on the item rather than as a `pattern` on the string:
 * the API server then shows the item as "object", never the value, so a private key pasted
 * by mistake is not echoed back into a terminal or an Event.
 */
const recipientRules: readonly CrossFieldRule<RecipientSource>[] = [
  {
    cel: '[has(self.publicKey), has(self.secretKeyRef), has(self.configMapKeyRef)].filter(x, x).size() == 1',
    message: 'set exactly one of publicKey, secretKeyRef and configMapKeyRef',
    check: (recipient) =>
      [recipient.publicKey, recipient.secretKeyRef, recipient.configMapKeyRef].filter(
        (source) => source !== undefined,
      ).length === 1,
  },
  {
    cel: "!has(self.publicKey) || !self.publicKey.startsWith('AGE-SECRET-KEY-')",
    message: PRIVATE_KEY_MESSAGE,
    field: ['publicKey'],
    check: (recipient) => !startsWith(recipient, 'AGE-SECRET-KEY-'),
  },
  {
    cel: "!has(self.publicKey) || !self.publicKey.startsWith('ssh-')",
    message: SSH_KEY_MESSAGE,
    field: ['publicKey'],
    check: (recipient) => !startsWith(recipient, 'ssh-'),
  },
  {
    cel: "!has(self.publicKey) || !self.publicKey.startsWith('age1pq1')",
    message: POST_QUANTUM_MESSAGE,
    field: ['publicKey'],
    check: (recipient) => !startsWith(recipient, 'age1pq1'),
  },
  {
    cel: `!has(self.publicKey) || self.publicKey.startsWith('AGE-SECRET-KEY-') || self.publicKey.startsWith('ssh-') || self.publicKey.startsWith('age1pq1') || self.publicKey.matches('${AGE_RECIPIENT_PATTERN.source}')`,
    message: SHAPE_MESSAGE,
    field: ['publicKey'],
    check: (recipient) =>
      recipient.publicKey === undefined ||
      ['AGE-SECRET-KEY-', 'ssh-', 'age1pq1'].some((prefix) => startsWith(recipient, prefix)) ||
      AGE_RECIPIENT_PATTERN.test(recipient.publicKey),
  },
];

const recipientSchema = withRules(
  closedObject({
    publicKey: z
      .string()
      .max(MAX_PUBLIC_KEY_LENGTH)
      .optional()
      .describe('An age public key written inline: "age1…", as `age-keygen -y key.txt` prints it.'),
    secretKeyRef: keyReference('Secret', RECIPIENTS_FILE).optional(),
    configMapKeyRef: keyReference('ConfigMap', RECIPIENTS_FILE).optional(),
  }),
  recipientRules,
)
  .superRefine((recipient, context) => {
    // The checksum, which CEL cannot compute; the API server accepts a key that fails it.
    const key = recipient.publicKey;
    if (key === undefined || !AGE_RECIPIENT_PATTERN.test(key) || isBech32(key, 'age', 32)) return;
    context.addIssue({
      code: 'custom',
      message: CHECKSUM_MESSAGE,
      path: ['publicKey'],
      input: recipient,
    });
  })
  .describe(
    'One recipient: an age public key inline (publicKey), or a key of a Secret or ConfigMap that holds public keys.',
  );

const identitySchema = closedObject({
  secretKeyRef: keyReference(
    'Secret',
    'age identities (AGE-SECRET-KEY-1…), one a line, as `age-keygen` writes them',
  ),
}).describe(
  "The private key that reads backups: mounted only into the pods of restores and restore drills (and the listing of a logical backup's databases), never into the pods that take backups. Required while verify.schedule is not never; must be a Secret of its own, not one the backup runner reads.",
);

/** Client-side encryption of every object a policy's backups write, in the age format. */
export const encryptionSchema = closedObject({
  recipients: z
    .array(recipientSchema)
    .min(1, {
      error: 'list at least one recipient (an age public key); omit encryption to store plain',
    })
    .max(MAX_RECIPIENTS)
    .describe(
      'The age public keys every backup object is encrypted for; any one of their identities decrypts it. Add a recipient to rotate keys: new backups are encrypted for it too.',
    ),
  identity: identitySchema.optional(),
}).describe(
  'Encrypt every stored object on the client, in the age format (age-encryption.org/v1), after compression. manifest.json stays readable so the bucket remains a catalog without the key. Omitted: objects are stored as written (S3 server-side encryption still applies). See docs/encryption.md.',
);

/** `spec.storage.encryption` after parsing. */
export type EncryptionSpec = z.output<typeof encryptionSchema>;

/** One entry of `spec.storage.encryption.recipients`. */
export type RecipientSpec = EncryptionSpec['recipients'][number];

/**
 * A backup manifest's `encryption` field (src/storage's manifest.json): every object the
 * manifest lists is then an age file, and its `sha256` and `sizeBytes` are those of the stored
 * ciphertext. The manifest itself stays plain, so the catalog works without the key.
 */
export const manifestEncryptionSchema = z.object({
  format: z.literal('age'),
  /**
   * Fingerprints ({@link FINGERPRINT_PATTERN}) of the recipients the objects were encrypted
   * for: an X25519 age header does not name its recipients, so this is how a reader that
   * holds the wrong identity is told which one it needs.
   */
  recipients: z.array(z.string().regex(FINGERPRINT_PATTERN)).min(1),
});

/** A manifest's `encryption` field. */
export type ManifestEncryption = z.infer<typeof manifestEncryptionSchema>;
