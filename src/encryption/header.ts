/**
 * The age header: the version line, one stanza per recipient (the file key wrapped for it)
 * and a MAC over them. The header is the delicate part of the format, so `age-encryption`
 * (by the format's author) writes and checks it; payload.ts does the bulk work.
 */
import { Decrypter, Encrypter, type Recipient, type Stanza } from 'age-encryption';
import { EncryptionError, TamperedObjectError, WrongIdentityError } from './errors.js';
import type { AgeIdentity, AgeRecipient } from './keys.js';

/** An age header can be no longer than this here (16 X25519 stanzas need under 2 KiB). */
export const MAX_HEADER_BYTES = 64 * 1024;

const VERSION_LINE = 'age-encryption.org/v1\n';
/** What the library appends to a header when it encrypts an empty file: nonce and tag. */
const EMPTY_PAYLOAD_BYTES = 16 + 16;

/** A header ready to be written, and the file key the payload is sealed with. */
export interface NewHeader {
  readonly header: Buffer;
  readonly fileKey: Uint8Array;
}

/**
 * Makes a header for the recipients. The library draws the file key and wraps it for each
 * recipient; a recipient of our own that wraps nothing is handed the same file key (the
 * library's documented `Recipient` interface), so the payload can be sealed here. The
 * library's own payload, for an empty file, is dropped: the payload gets a fresh nonce.
 */
export async function createHeader(recipients: readonly AgeRecipient[]): Promise<NewHeader> {
  if (recipients.length === 0) {
    throw new EncryptionError('no recipients to encrypt for: list at least one age public key');
  }
  let fileKey: Uint8Array | undefined;
  const fileKeyCapture: Recipient = {
    wrapFileKey(key: Uint8Array): Stanza[] {
      fileKey = Uint8Array.from(key);
      return [];
    },
  };
  const encrypter = new Encrypter();
  for (const { recipient } of recipients) encrypter.addRecipient(recipient);
  encrypter.addRecipient(fileKeyCapture);
  const file = await encrypter.encrypt(new Uint8Array(0));
  const header = Buffer.from(file.subarray(0, file.length - EMPTY_PAYLOAD_BYTES));
  const complete =
    header.toString('latin1').startsWith(VERSION_LINE) && findHeaderEnd(header) === header.length;
  if (fileKey === undefined || !complete) {
    throw new EncryptionError('age-encryption produced no header: its interface has changed');
  }
  return { header, fileKey };
}

/**
 * Where the header ends in `bytes` (the index after the MAC line's newline), or `undefined`
 * while the MAC line is not complete yet. Stanza lines begin with "-> " or hold base64, so
 * the first line that begins with "--- " is the MAC line.
 */
export function findHeaderEnd(bytes: Buffer): number | undefined {
  const macLine = bytes.indexOf('\n--- ', 0, 'latin1');
  if (macLine < 0) return undefined;
  const end = bytes.indexOf('\n', macLine + 1, 'latin1');
  return end < 0 ? undefined : end + 1;
}

/** What a reader knows about the object, for its messages. */
export interface HeaderContext {
  /** The object, as a person would name it (its key in the bucket). */
  readonly object: string;
  /** The fingerprints the object was encrypted for, when a manifest recorded them. */
  readonly expectedFingerprints?: readonly string[] | undefined;
}

/** `recipient 0123…` or `recipients 0123…, 4567…`. */
function recipientsNamed(fingerprints: readonly string[]): string {
  return `recipient${fingerprints.length === 1 ? '' : 's'} ${fingerprints.join(', ')}`;
}

function noIdentityMatched(identities: readonly AgeIdentity[], context: HeaderContext): Error {
  const held = identities.map((identity) => identity.fingerprint);
  const expected = context.expectedFingerprints;
  if (expected !== undefined && held.some((fingerprint) => expected.includes(fingerprint))) {
    return new TamperedObjectError(
      `${context.object}: the identity for ${recipientsNamed(held.filter((fingerprint) => expected.includes(fingerprint)))} does not open the header, although the manifest says the object was encrypted for it: the object was changed or damaged after it was written; restore another backup`,
    );
  }
  const wanted =
    expected === undefined ? 'a recipient whose identity was not given' : recipientsNamed(expected);
  return new WrongIdentityError(
    `${context.object} was encrypted for ${wanted}, and the ${held.length === 1 ? 'identity given is' : 'identities given are'} for ${held.join(', ')}: put the identity of a recipient the backup was made for into the Secret named by spec.storage.encryption.identity (fingerprints: the first 8 bytes of SHA-256 of the "age1…" public key, in hex)`,
  );
}

/**
 * Checks, before anything is downloaded, that one of the identities belongs to a recipient a
 * backup was encrypted for (the manifest's fingerprints), so a restore with the wrong key
 * fails before it creates a file.
 *
 * @throws WrongIdentityError naming the recipients the backup needs and those given
 */
export function requireMatchingIdentity(
  identities: readonly AgeIdentity[],
  context: HeaderContext & { readonly expectedFingerprints: readonly string[] },
): void {
  const expected = context.expectedFingerprints;
  if (identities.length === 0) throw noIdentityGiven(context);
  if (!identities.some((identity) => expected.includes(identity.fingerprint))) {
    throw noIdentityMatched(identities, context);
  }
}

function noIdentityGiven(context: HeaderContext): WrongIdentityError {
  const wanted = context.expectedFingerprints;
  return new WrongIdentityError(
    `${context.object} is encrypted${wanted === undefined ? '' : ` for ${recipientsNamed(wanted)}`} and no identity was given: name a Secret holding its age identity in spec.storage.encryption.identity`,
  );
}

/**
 * Unwraps the file key from a complete header with the first identity that opens it, and
 * checks the header's MAC.
 *
 * @throws WrongIdentityError when no identity opens it (naming the recipients it needs, when
 *   known); TamperedObjectError when the header is malformed or its MAC does not match
 */
export async function openHeader(
  header: Uint8Array,
  identities: readonly AgeIdentity[],
  context: HeaderContext,
): Promise<Uint8Array> {
  if (identities.length === 0) throw noIdentityGiven(context);
  const decrypter = new Decrypter();
  for (const identity of identities) decrypter.addIdentity(identity.secretKey);
  try {
    return await decrypter.decryptHeader(header);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    if (message.startsWith('no identity matched')) throw noIdentityMatched(identities, context);
    throw new TamperedObjectError(
      `${context.object}: the age header is not valid (${message}): the object was changed or damaged after it was written, or is not an age file; restore another backup`,
      { cause: error },
    );
  }
}
