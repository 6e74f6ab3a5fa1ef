/** Multipart part sizes: enough parts for any database, memory bounded by part size × queue. */

/** S3 allows at most 10,000 parts per upload. */
export const MAX_PARTS = 10_000;

/** S3's smallest part (except the last). */
export const MIN_PART_SIZE_BYTES = 5 * 1024 * 1024;

const MEBIBYTE = 1024 * 1024;

/**
 * The part size for a stream expected to be at most `expectedBytes` long: the smallest whole
 * number of MiB, at least `floorBytes`, such that 90 % of the part limit covers twice the
 * expected size (the WAL written during the backup, and incompressible data, can make the
 * stream longer than the databases).
 */
export function partSizeFor(expectedBytes: number, floorBytes = 8 * MEBIBYTE): number {
  const needed = Math.ceil((2 * Math.max(expectedBytes, 0)) / (MAX_PARTS * 0.9));
  const size = Math.max(needed, floorBytes, MIN_PART_SIZE_BYTES);
  return Math.ceil(size / MEBIBYTE) * MEBIBYTE;
}
