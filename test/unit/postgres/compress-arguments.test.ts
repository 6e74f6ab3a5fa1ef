import { describe, expect, it } from 'vitest';
import {
  type BinaryCompressionSettings,
  compressArguments,
  type DumpCompressionSettings,
  dumpCompressArguments,
} from '../../../src/postgres/index.js';

describe("pg_basebackup's compression arguments", () => {
  it.each<[BinaryCompressionSettings, string[]]>([
    [{ algorithm: 'zstd' }, ['--compress=client-zstd']],
    [{ algorithm: 'zstd', level: 9, workers: 2 }, ['--compress=client-zstd:level=9,workers=2']],
    [{ algorithm: 'zstd', workers: 2 }, ['--compress=client-zstd:workers=2']],
    [{ algorithm: 'zstd', level: -3 }, ['--compress=client-zstd:level=-3']],
    [{ algorithm: 'gzip', level: 1 }, ['--compress=client-gzip:level=1']],
    [{ algorithm: 'lz4', level: 12 }, ['--compress=client-lz4:level=12']],
    [{ algorithm: 'none' }, ['--compress=none']],
  ])('from PostgreSQL 15 on, %j is %j', (settings, args) => {
    expect(compressArguments(settings, 15)).toEqual(args);
    expect(compressArguments(settings, 17)).toEqual(args);
  });

  it.each<[BinaryCompressionSettings, string[]]>([
    [{ algorithm: 'gzip' }, ['--gzip']],
    [{ algorithm: 'gzip', level: 9 }, ['--compress=9']],
    [{ algorithm: 'none' }, []],
  ])('before 15 (gzip only), %j is %j', (settings, args) => {
    expect(compressArguments(settings, 14)).toEqual(args);
  });
});

describe("pg_dump's compression arguments", () => {
  it.each<[DumpCompressionSettings, string[]]>([
    [{ algorithm: 'gzip' }, ['--compress=gzip']],
    [{ algorithm: 'gzip', level: 9 }, ['--compress=gzip:level=9']],
    [{ algorithm: 'zstd', level: 19 }, ['--compress=zstd:level=19']],
    [{ algorithm: 'lz4' }, ['--compress=lz4']],
    [{ algorithm: 'none' }, ['--compress=none']],
  ])('from PostgreSQL 16 on, %j is %j', (settings, args) => {
    expect(dumpCompressArguments(settings, 16)).toEqual(args);
  });

  it.each<[DumpCompressionSettings, string[]]>([
    [{ algorithm: 'gzip' }, []],
    [{ algorithm: 'gzip', level: 1 }, ['--compress=1']],
    [{ algorithm: 'none' }, ['--compress=0']],
  ])('before 16 (gzip levels only), %j is %j', (settings, args) => {
    expect(dumpCompressArguments(settings, 15)).toEqual(args);
  });
});
