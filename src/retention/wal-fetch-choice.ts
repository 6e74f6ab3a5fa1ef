/**
 * Which stored object answers a recovery's request for a WAL file (`restore_command`'s `%f`):
 * the segment under any compression suffix, a history file, or, when the segment was never
 * completed, its `.partial`, but only while that partial is the newest WAL there is (it ends
 * in zeros: served while older WAL follows it, it would end recovery early). Encrypted
 * (`.age`) and plain objects answer alike: a bucket holds both once encryption is turned on.
 * Pure.
 */
import {
  DEFAULT_WAL_SEGMENT_SIZE,
  parseWalFileName,
  type WalCompression,
  type WalFile,
} from './wal-names.js';

/** The object that answers a request, or why none does. */
export type WalFetchChoice =
  | {
      readonly kind: 'stored';
      /** The object's name in the bucket. */
      readonly name: string;
      readonly compression: WalCompression;
      /** A `.partial` served under the complete segment's name. */
      readonly partial: boolean;
      /** The object is age ciphertext: decrypt before decompressing. */
      readonly encrypted: boolean;
    }
  | { readonly kind: 'missing'; readonly reason: string };

/** When several compressions of one file are stored (the setting changed), the one served. */
const COMPRESSION_ORDER: readonly WalCompression[] = ['zstd', 'gzip', 'lz4', 'none'];

/**
 * The order variants of one file are served in: a plain copy first (it needs no identity,
 * and one stored before encryption was turned on holds the same WAL), then by compression.
 */
function byPreference(a: WalFile, b: WalFile): number {
  const rank = (file: WalFile) =>
    (file.encrypted ? COMPRESSION_ORDER.length : 0) + COMPRESSION_ORDER.indexOf(file.compression);
  return rank(a) - rank(b);
}

function storedChoice(file: WalFile, partial: boolean): WalFetchChoice {
  return {
    kind: 'stored',
    name: file.name,
    compression: file.compression,
    partial,
    encrypted: file.encrypted,
  };
}

/** Whether `file` is later WAL than segment `segment` of `timeline`. */
function isNewer(
  file: Extract<WalFile, { kind: 'segment' }>,
  timeline: number,
  segment: bigint,
): boolean {
  return (
    (file.timeline >= timeline && file.segment > segment) ||
    (file.timeline > timeline && file.segment === segment)
  );
}

/**
 * Chooses the object that answers `requested`, a file name as recovery asks for it. `names`
 * must hold every object of the bucket's WAL when the answer is a partial; for any other
 * answer the objects whose names start with the requested name suffice (a caller lists those
 * first, and everything only when this answers with a partial).
 */
export function chooseWalObject(
  requested: string,
  names: readonly string[],
  segmentSize: number = DEFAULT_WAL_SEGMENT_SIZE,
): WalFetchChoice {
  const wanted = parseWalFileName(requested, segmentSize);
  if (
    wanted === undefined ||
    wanted.encrypted ||
    wanted.compression !== 'none' ||
    (wanted.kind === 'segment' && wanted.partial)
  ) {
    return { kind: 'missing', reason: `${requested} is not a WAL segment or history file name` };
  }
  const files = names.flatMap((name) => {
    const file = parseWalFileName(name, segmentSize);
    return file === undefined ? [] : [file];
  });
  if (wanted.kind === 'history') {
    const history = files
      .filter((file) => file.kind === 'history' && file.timeline === wanted.timeline)
      .sort(byPreference)[0];
    return history === undefined
      ? { kind: 'missing', reason: `${requested} is not in the bucket` }
      : storedChoice(history, false);
  }
  const variants = files
    .filter((file) => file.kind === 'segment' && file.segmentName === wanted.segmentName)
    .sort(byPreference) as Extract<WalFile, { kind: 'segment' }>[];
  const complete = variants.find((file) => !file.partial);
  if (complete !== undefined) return storedChoice(complete, false);
  const partial = variants[0];
  if (partial === undefined)
    return { kind: 'missing', reason: `${requested} is not in the bucket` };
  const newer = files.find(
    (file) => file.kind === 'segment' && isNewer(file, wanted.timeline, wanted.segment),
  );
  if (newer !== undefined) {
    return {
      kind: 'missing',
      reason: `${requested} was never completed: only ${partial.name} is in the bucket, and newer WAL (${newer.name}) follows it`,
    };
  }
  return storedChoice(partial, true);
}
