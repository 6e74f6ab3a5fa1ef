/**
 * A recipient's fingerprint, which manifests record: an X25519 age header holds only an
 * ephemeral share, not the public key it was made for, so a reader who holds the wrong key
 * can be told which key the object needs only from what was written beside it.
 */
import { createHash } from 'node:crypto';

/** Hex length of a fingerprint (8 bytes), as `FINGERPRINT_PATTERN` in src/api checks. */
export const FINGERPRINT_HEX_LENGTH = 16;

/**
 * The first 8 bytes of the SHA-256 of the recipient string (`age1…`, as `age-keygen -y`
 * prints it), in lowercase hex. Short enough to read in a message, long enough that two keys
 * of one installation never share it; not secret, like the public key itself.
 */
export function fingerprintRecipient(recipient: string): string {
  return createHash('sha256')
    .update(recipient, 'utf8')
    .digest('hex')
    .slice(0, FINGERPRINT_HEX_LENGTH);
}
