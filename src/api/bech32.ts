/**
 * The Bech32 checksum (BIP 173) that age public keys carry, so a mistyped or truncated key
 * is caught when the policy is parsed rather than when the first backup runs. Pure: only
 * the arithmetic of the checksum; age's own code does the decoding when a key is used.
 */

/** Bech32's 32 data characters, in the order of their values. */
export const BECH32_CHARSET = 'qpzry9x8gf2tvdw0s3jn54khce6mua7l';

const GENERATORS = [0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3] as const;

function polymod(values: readonly number[]): number {
  let checksum = 1;
  for (const value of values) {
    const top = checksum >>> 25;
    checksum = ((checksum & 0x1ffffff) << 5) ^ value;
    GENERATORS.forEach((generator, bit) => {
      if ((top >>> bit) & 1) checksum ^= generator;
    });
  }
  return checksum >>> 0;
}

function expandPrefix(prefix: string): number[] {
  const codes = [...prefix].map((character) => character.charCodeAt(0));
  return [...codes.map((code) => code >>> 5), 0, ...codes.map((code) => code & 31)];
}

/**
 * Whether `text` is lowercase Bech32 with the human-readable part `prefix` whose data are
 * `dataBytes` bytes: the checksum holds and the padding bits are zero, as age's decoder
 * requires.
 */
export function isBech32(text: string, prefix: string, dataBytes: number): boolean {
  if (!text.startsWith(`${prefix}1`)) return false;
  const values = [...text.slice(prefix.length + 1)].map((character) =>
    BECH32_CHARSET.indexOf(character),
  );
  const dataGroups = Math.ceil((dataBytes * 8) / 5);
  if (values.length !== dataGroups + 6 || values.includes(-1)) return false;
  const paddingBits = dataGroups * 5 - dataBytes * 8;
  const lastGroup = values[dataGroups - 1] ?? 0;
  if ((lastGroup & ((1 << paddingBits) - 1)) !== 0) return false;
  return polymod([...expandPrefix(prefix), ...values]) === 1;
}
