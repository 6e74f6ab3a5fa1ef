/**
 * A policy's WAL as the bucket holds it, read for continuity and retention: every object, the
 * parsed history files, and each partial's end of real WAL (its `end-lsn` metadata).
 */
import { text } from 'node:stream/consumers';
import type { WalListingEntry } from '../retention/wal-continuity.js';
import {
  DEFAULT_WAL_SEGMENT_SIZE,
  parseLsn,
  parseTimelineHistory,
  parseWalFileName,
  type TimelineSwitch,
} from '../retention/wal-names.js';
import type { WalObject, WalStore } from '../storage/index.js';

/** The bucket's WAL, read once. */
export interface BucketWal {
  readonly objects: readonly WalObject[];
  /** What continuity reads: every name, partials with their end LSN. */
  readonly entries: readonly WalListingEntry[];
  readonly histories: ReadonlyMap<number, readonly TimelineSwitch[]>;
}

/**
 * Lists the WAL store and reads what continuity needs beyond names: history files (small,
 * read whole) and the metadata of partials (one HEAD each; there are few: the current one and
 * one per ended timeline).
 *
 * @throws StorageError when the bucket cannot be read; Error when a history file is not one
 */
export async function readBucketWal(
  store: WalStore,
  segmentSize: number = DEFAULT_WAL_SEGMENT_SIZE,
): Promise<BucketWal> {
  const objects = await store.list();
  const histories = new Map<number, readonly TimelineSwitch[]>();
  const entries: WalListingEntry[] = [];
  for (const object of objects) {
    const file = parseWalFileName(object.name, segmentSize);
    if (file?.kind === 'history') {
      const { body } = await store.read(object.name);
      try {
        histories.set(file.timeline, parseTimelineHistory(await text(body)));
      } catch (error) {
        throw new Error(
          `${object.name} in ${store.description} is not a timeline history file: ${(error as Error).message}`,
          { cause: error },
        );
      }
      entries.push({ name: object.name });
    } else if (file?.kind === 'segment' && file.partial) {
      const head = await store.head(object.name);
      entries.push({ name: object.name, endLsn: parseLsn(head?.endLsn ?? '') });
    } else {
      entries.push({ name: object.name });
    }
  }
  return { objects, entries, histories };
}
