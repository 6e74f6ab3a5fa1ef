/**
 * A policy's WAL as the bucket holds it, read for continuity and retention: every object, the
 * parsed history files, and each partial's end of real WAL (its `end-lsn` metadata). None of
 * it needs the identity: an encrypted history file's switches are read from its metadata.
 */
import { text } from 'node:stream/consumers';
import type { WalListingEntry } from '../retention/wal-continuity.js';
import {
  DEFAULT_WAL_SEGMENT_SIZE,
  parseLsn,
  parseTimelineHistory,
  parseTimelineSwitches,
  parseWalFileName,
  type TimelineSwitch,
} from '../retention/wal-names.js';
import type { WalObject, WalStore } from '../storage/index.js';

/**
 * The switches of a stored history file: from the file itself when plain, from its
 * `timeline-switches` metadata when encrypted (readers of continuity hold no identity).
 *
 * @throws Error naming the object when it is not a history file, or an encrypted one lacks
 *   the metadata
 */
export async function readStoredHistory(
  store: WalStore,
  file: { readonly name: string; readonly encrypted: boolean },
): Promise<TimelineSwitch[]> {
  const notHistory = (reason: string, cause?: unknown) =>
    new Error(`${file.name} in ${store.description} is not a timeline history file: ${reason}`, {
      cause,
    });
  let content: string | undefined;
  if (file.encrypted) {
    content = (await store.head(file.name))?.timelineSwitches;
    if (content === undefined) {
      throw notHistory(
        "it is encrypted and carries no timeline-switches metadata, so its switches cannot be read without the identity: it was not stored by pgbackup's WAL receiver; remove it, or store the plain history file from the primary's pg_wal in its place",
      );
    }
  } else {
    content = await text((await store.read(file.name)).body);
  }
  try {
    return file.encrypted ? parseTimelineSwitches(content) : parseTimelineHistory(content);
  } catch (error) {
    throw notHistory((error as Error).message, error);
  }
}

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
      // A plain and an encrypted copy hold the same switches: the first read serves.
      if (!histories.has(file.timeline)) {
        histories.set(file.timeline, await readStoredHistory(store, file));
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
