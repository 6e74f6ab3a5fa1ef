/**
 * Client-side encryption in the age format (age-encryption.org/v1): streaming encryption for
 * recipients (public keys), streaming decryption with identities (private keys), the key
 * files' formats and the fingerprints manifests record. Imports nothing of ours but src/api.
 */
export {
  type AgeDecryptOptions,
  createAgeDecrypter,
  HEADER_OPENED_EVENT,
  openAgeStream,
} from './decrypt-stream.js';
export { createAgeEncrypter } from './encrypt-stream.js';
export {
  EncryptionError,
  KeyFormatError,
  TamperedObjectError,
  WrongIdentityError,
} from './errors.js';
export { FINGERPRINT_HEX_LENGTH, fingerprintRecipient } from './fingerprint.js';
export { type HeaderContext, MAX_HEADER_BYTES, requireMatchingIdentity } from './header.js';
export {
  type AgeIdentity,
  type AgeRecipient,
  parseIdentities,
  parseRecipients,
  toAgeRecipient,
} from './keys.js';
export { PAYLOAD_CHUNK_BYTES } from './payload.js';
