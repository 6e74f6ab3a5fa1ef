/**
 * Failures of age encryption and decryption. Each message names the object or key source,
 * what is wrong and what to do; none ever contains key material.
 */

/** Base class: a key could not be used, or an object could not be encrypted or decrypted. */
export class EncryptionError extends Error {
  override readonly name: string = 'EncryptionError';
}

/** A recipient or identity text that is not a usable age key (names its source and line). */
export class KeyFormatError extends EncryptionError {
  override readonly name = 'KeyFormatError';
}

/**
 * None of the identities given unwraps the object's file key: the identity is missing or
 * belongs to another recipient. Raised from the header, before any plaintext is produced.
 */
export class WrongIdentityError extends EncryptionError {
  override readonly name = 'WrongIdentityError';
}

/**
 * The object is not the age file that was written: its header or payload fails
 * authentication, or it ends early. Nothing decrypted from a failed chunk is passed on.
 */
export class TamperedObjectError extends EncryptionError {
  override readonly name = 'TamperedObjectError';
}
