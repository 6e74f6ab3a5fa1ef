/**
 * Reading age keys from the text of a Secret or ConfigMap key, in the files' own formats:
 * recipients one a line as `age -R` reads them, identities as `age-keygen` writes them.
 * Errors name the source and the line, never the key.
 */
import { identityToRecipient } from 'age-encryption';
import { describeRecipientProblem } from '../api/index.js';
import { KeyFormatError } from './errors.js';
import { fingerprintRecipient } from './fingerprint.js';

/** A public key backups are encrypted for. */
export interface AgeRecipient {
  /** `age1…`, as `age-keygen -y` prints it. */
  readonly recipient: string;
  /** See {@link fingerprintRecipient}. */
  readonly fingerprint: string;
}

/** A private key that decrypts backups, with the public key it belongs to. */
export interface AgeIdentity extends AgeRecipient {
  /** `AGE-SECRET-KEY-1…`: never logged, never put in an error. */
  readonly secretKey: string;
}

/** The lines of a key file that hold keys: trimmed, without blanks and `#` comments. */
function keyLines(text: string): { line: number; text: string }[] {
  return text.split(/\r?\n/).flatMap((raw, index) => {
    const trimmed = raw.trim();
    return trimmed === '' || trimmed.startsWith('#') ? [] : [{ line: index + 1, text: trimmed }];
  });
}

/** A recipient from its `age1…` text, checked as the policy's validation checks it. */
export function toAgeRecipient(text: string, source: string): AgeRecipient {
  const problem = describeRecipientProblem(text);
  if (problem !== undefined) throw new KeyFormatError(`${source}: ${problem}`);
  return { recipient: text, fingerprint: fingerprintRecipient(text) };
}

/**
 * The recipients in a recipients file (one `age1…` a line).
 *
 * @param source - names where the text came from, e.g. `Secret "orders-age" key "recipients"`
 * @throws KeyFormatError naming the source and line when a line is not a usable public key,
 *   or when the file holds none
 */
export function parseRecipients(text: string, source: string): AgeRecipient[] {
  const lines = keyLines(text);
  if (lines.length === 0) {
    throw new KeyFormatError(
      `${source} holds no age public key: write one "age1…" a line (\`age-keygen -y key.txt\` prints it)`,
    );
  }
  return lines.map(({ line, text: key }) => toAgeRecipient(key, `${source}, line ${line}`));
}

const IDENTITY_PREFIX = 'AGE-SECRET-KEY-1';

/**
 * The identities in an identity file (`age-keygen` output: comments and one
 * `AGE-SECRET-KEY-1…` a line), each with its public key.
 *
 * @throws KeyFormatError naming the source and line when a line is not an age X25519 identity,
 *   or when the file holds none
 */
export async function parseIdentities(text: string, source: string): Promise<AgeIdentity[]> {
  const lines = keyLines(text);
  if (lines.length === 0) {
    throw new KeyFormatError(
      `${source} holds no age identity: store the file \`age-keygen -o key.txt\` wrote (AGE-SECRET-KEY-1…)`,
    );
  }
  return Promise.all(
    lines.map(async ({ line, text: secretKey }) => {
      const recipient = secretKey.startsWith(IDENTITY_PREFIX)
        ? await identityToRecipient(secretKey).catch(() => undefined)
        : undefined;
      if (recipient === undefined) {
        throw new KeyFormatError(
          `${source}, line ${line}: not an age X25519 identity; it must be an "AGE-SECRET-KEY-1…" line as \`age-keygen\` writes it (the public key, age1…, goes into spec.storage.encryption.recipients)`,
        );
      }
      return { secretKey, recipient, fingerprint: fingerprintRecipient(recipient) };
    }),
  );
}
