/**
 * Compression level and workers of a backup stream, as sibling fields of the algorithm
 * (`compression`, `compressionLevel`, `compressionWorkers`): a field that is either a string
 * or an object is not allowed in a structural CRD schema, and siblings keep every existing
 * policy (`compression: zstd`) valid as written.
 *
 * The ranges are those `pg_basebackup` 15 (and `pg_dump` 16) accept, narrowed where the tool's
 * range holds nothing useful: zstd's negative "fast" levels stop at -7, and level 0 (zstd's
 * "default") is refused so that omitting the level is the one way to ask for the default.
 */
import * as z from 'zod';
import type { CrossFieldRule } from './cross-field-rule.js';

/** The algorithms a level applies to, with its range. */
export const LEVEL_RANGES = {
  gzip: { min: 1, max: 9 },
  lz4: { min: 1, max: 12 },
  zstd: { min: -7, max: 22 },
} as const;

/** The most zstd worker threads a policy may ask for. */
export const WORKERS_MAX = 64;

/** Words for a level's range, used by both validators and the docs. */
export const LEVEL_RANGE_WORDS = {
  gzip: '1 (fastest) to 9 (smallest)',
  lz4: '1 (fastest) to 12 (smallest)',
  zstd: '-7 to -1 (faster than 1) or 1 to 22 (smallest); omit it for the default, 3',
} as const;

/** The fields a schema with compression settings has. */
export interface CompressionFields {
  readonly compression: string;
  readonly compressionLevel?: number | undefined;
  readonly compressionWorkers?: number | undefined;
}

/** `compressionLevel`: the level of the algorithm, checked against it by {@link levelRules}. */
export function compressionLevelField(description: string) {
  return z
    .int()
    .min(LEVEL_RANGES.zstd.min, {
      error: 'must be from -7 to 22 (zstd), 1 to 12 (lz4) or 1 to 9 (gzip)',
    })
    .max(LEVEL_RANGES.zstd.max, {
      error: 'must be from -7 to 22 (zstd), 1 to 12 (lz4) or 1 to 9 (gzip)',
    })
    .optional()
    .describe(description);
}

/** `compressionWorkers`: zstd threads compressing beside the reader. */
export function compressionWorkersField(description: string) {
  return z
    .int()
    .min(1, { error: `must be from 1 to ${WORKERS_MAX} (zstd worker threads)` })
    .max(WORKERS_MAX, { error: `must be from 1 to ${WORKERS_MAX} (zstd worker threads)` })
    .optional()
    .describe(description);
}

function inRange(level: number, algorithm: keyof typeof LEVEL_RANGES): boolean {
  const range = LEVEL_RANGES[algorithm];
  return level >= range.min && level <= range.max && level !== 0;
}

function levelRule<T extends CompressionFields>(
  algorithm: keyof typeof LEVEL_RANGES,
): CrossFieldRule<T> {
  const { min, max } = LEVEL_RANGES[algorithm];
  const zeroExcluded = min < 0 ? ' && self.compressionLevel != 0' : '';
  return {
    cel: `!has(self.compressionLevel) || self.compression != '${algorithm}' || (self.compressionLevel >= ${min} && self.compressionLevel <= ${max}${zeroExcluded})`,
    message: `${algorithm === 'lz4' ? 'an' : 'a'} ${algorithm} level is ${LEVEL_RANGE_WORDS[algorithm]}`,
    field: ['compressionLevel'],
    check: (value) =>
      value.compressionLevel === undefined ||
      value.compression !== algorithm ||
      inRange(value.compressionLevel, algorithm),
  };
}

/** The rules tying `compressionLevel` to `compression`: a range per algorithm, none for none. */
export function levelRules<T extends CompressionFields>(): CrossFieldRule<T>[] {
  return [
    levelRule<T>('gzip'),
    levelRule<T>('lz4'),
    levelRule<T>('zstd'),
    {
      cel: "!has(self.compressionLevel) || self.compression != 'none'",
      message: 'compression none takes no level: remove compressionLevel, or choose an algorithm',
      field: ['compressionLevel'],
      check: (value) => value.compressionLevel === undefined || value.compression !== 'none',
    },
  ];
}

/** `compressionWorkers` only with zstd, the one algorithm that compresses on several threads. */
export function workersRule<T extends CompressionFields>(): CrossFieldRule<T> {
  return {
    cel: "!has(self.compressionWorkers) || self.compression == 'zstd'",
    message:
      'only zstd compresses on several threads: set compression to zstd, or remove compressionWorkers',
    field: ['compressionWorkers'],
    check: (value) => value.compressionWorkers === undefined || value.compression === 'zstd',
  };
}
