import { describe, expect, it } from 'vitest';
import { describeMismatch } from '../../../src/storage/s3-object-download.js';

const EXPECTED = { sizeBytes: 100, sha256: 'a'.repeat(64) };

describe('an object read back against its manifest', () => {
  it('matches when size and SHA-256 are those recorded', () => {
    expect(describeMismatch('k/base.tar.zst', EXPECTED, { ...EXPECTED })).toBeUndefined();
  });

  it('names the object and both checksums when a byte changed', () => {
    const actual = { sizeBytes: 100, sha256: 'b'.repeat(64) };

    expect(describeMismatch('k/base.tar.zst', EXPECTED, actual)).toBe(
      `object k/base.tar.zst does not match its manifest: SHA-256 ${'b'.repeat(64)} where the manifest says ${'a'.repeat(64)} (100 bytes as recorded). The stored backup is damaged; take a new backup, and check the bucket's storage`,
    );
  });

  it('names both sizes when the object was cut short', () => {
    const actual = { sizeBytes: 60, sha256: 'c'.repeat(64) };

    expect(describeMismatch('k/base.tar.zst', EXPECTED, actual)).toContain(
      '(60 bytes where the manifest says 100)',
    );
  });
});
