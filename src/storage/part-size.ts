/**
 * Multipart part sizes and how many parts upload at once: enough parts for any database, and
 * the runner's memory bounded by part size × (queue + 2) — the parts in flight, the one
 * being filled and its copy (lib-storage's Upload assembles each part with Buffer.concat).
 */

/** S3 allows at most 10,000 parts per upload. */
export const MAX_PARTS = 10_000;

/** S3's smallest part (except the last). */
export const MIN_PART_SIZE_BYTES = 5 * 1024 * 1024;

/**
 * Parts uploaded at once. Two keep one part on the wire while the next one fills, which is
 * all a stream limited by its producer (pg_basebackup's zstd, pg_dump) needs; lib-storage's
 * default of 4 held twice the memory and, in bench/binary, bought no speed.
 */
export const UPLOAD_QUEUE_SIZE = 2;

const MEBIBYTE = 1024 * 1024;

/**
 * The part size for a stream expected to be at most `expectedBytes` long: the smallest whole
 * number of MiB, at least `floorBytes` (S3's minimum by default), such that 90 % of the part
 * limit covers twice the expected size (the WAL written during the backup, and incompressible
 * data, can make the stream longer than the databases). 5 MiB up to 21 GiB of databases;
 * beyond, the parts grow with the size: 234 MiB at 1 TiB (2 TiB in 9,000 parts), 1.1 GiB at
 * 5 TiB.
 */
export function partSizeFor(expectedBytes: number, floorBytes = MIN_PART_SIZE_BYTES): number {
  const needed = Math.ceil((2 * Math.max(expectedBytes, 0)) / (MAX_PARTS * 0.9));
  const size = Math.max(needed, floorBytes, MIN_PART_SIZE_BYTES);
  return Math.ceil(size / MEBIBYTE) * MEBIBYTE;
}

/**
 * The most an upload of parts of `partSizeBytes` holds in buffers: the {@link UPLOAD_QUEUE_SIZE}
 * parts in flight, the one being filled and its copy.
 */
export function uploadBufferBytes(partSizeBytes: number): number {
  return partSizeBytes * (UPLOAD_QUEUE_SIZE + 2);
}
