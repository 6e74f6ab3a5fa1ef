import { describe, expect, it } from 'vitest';
import {
  binaryCompressionRefusal,
  compressionSettingsOf,
  dumpCompressionRefusal,
  majorOfToolVersion,
} from '../../../src/runner/compression-support.js';

describe('the major version of a tool', () => {
  it.each([
    ['pg_basebackup (PostgreSQL) 15.10 (Debian 15.10-0+deb12u1)', 15],
    ['pg_dump (PostgreSQL) 16.4', 16],
    ['pg_dump (PostgreSQL) 17beta2', 17],
    ['pg_dump (PostgreSQL) 9.6.24', 9.6],
  ])('%s is %d', (version, major) => {
    expect(majorOfToolVersion(version)).toBe(major);
  });

  it('is undefined for a line that is not a PostgreSQL version', () => {
    expect(majorOfToolVersion('pg_dump: command not found')).toBeUndefined();
  });
});

describe('binary compression against the server (and so pg_basebackup) major', () => {
  it.each([
    [{ algorithm: 'zstd' as const, level: 9, workers: 2 }, 15],
    [{ algorithm: 'lz4' as const }, 15],
    [{ algorithm: 'gzip' as const, level: 9 }, 14],
    [{ algorithm: 'none' as const }, 13],
  ])('accepts %j on PostgreSQL %d', (settings, major) => {
    expect(binaryCompressionRefusal(settings, major)).toBeUndefined();
  });

  it('refuses zstd with workers on PostgreSQL 14, naming the field, the version and the fix', () => {
    const refusal = binaryCompressionRefusal({ algorithm: 'zstd', workers: 2 }, 14);
    expect(refusal).toContain('spec.binary.compression zstd with compressionWorkers');
    expect(refusal).toContain('needs pg_basebackup 15 or newer');
    expect(refusal).toContain('PostgreSQL 14');
    expect(refusal).toContain('Set spec.binary.compression to gzip');
  });

  it('refuses lz4 on PostgreSQL 13', () => {
    expect(binaryCompressionRefusal({ algorithm: 'lz4' }, 13)).toContain(
      'spec.binary.compression lz4 needs pg_basebackup 15',
    );
  });
});

describe("logical compression against pg_dump's major", () => {
  it.each([
    [{ algorithm: 'zstd' as const, level: 19 }, 16],
    [{ algorithm: 'lz4' as const }, 17],
    [{ algorithm: 'gzip' as const, level: 9 }, 15],
    [{ algorithm: 'none' as const }, 15],
  ])('accepts %j with pg_dump %d', (settings, major) => {
    expect(dumpCompressionRefusal(settings, major, major)).toBeUndefined();
  });

  it('refuses zstd with pg_dump 15, naming the field, both versions and the fix', () => {
    const refusal = dumpCompressionRefusal({ algorithm: 'zstd', level: 3 }, 15, 15);
    expect(refusal).toContain('spec.logical.compression zstd needs pg_dump 16 or newer');
    expect(refusal).toContain('PostgreSQL 15 server is dumped with pg_dump 15');
    expect(refusal).toContain('Set spec.logical.compression to gzip');
  });
});

describe("the manifest's record of the settings", () => {
  it('holds what was asked for, and nothing for the defaults', () => {
    expect(compressionSettingsOf({ level: 9, workers: 2 })).toEqual({
      compressionSettings: { level: 9, workers: 2 },
    });
    expect(compressionSettingsOf({ level: 1 })).toEqual({ compressionSettings: { level: 1 } });
    expect(compressionSettingsOf({})).toEqual({});
  });
});
