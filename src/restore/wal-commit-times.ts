/**
 * The newest commit the archived WAL holds before a point: the WAL records carry commit
 * timestamps, so the segments just before the point are fetched from the bucket as recovery
 * would fetch them (`wal-fetch`'s choice: a `.partial` only when it is the newest WAL) and read
 * with `pg_waldump` of the server's major. Newest segment first, at most a few segments back.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { TimelineStretch } from '../retention/wal-continuity.js';
import { parseLsn, segmentFileName, segmentOf, segmentStartLsn } from '../retention/wal-names.js';
import type { WalStore } from '../storage/index.js';
import { fetchWalFile, type WalIdentity } from '../wal/fetch-wal.js';
import type { NewestCommit } from './base-backup-choice.js';

/** What one segment's records say. */
export interface SegmentRecords {
  /** The newest commit or abort record before the limit. */
  readonly newestCommit: NewestCommit | undefined;
  /** The start of the newest record before the limit. */
  readonly lastRecordLsn: bigint | undefined;
}

const LSN = /\blsn: ([0-9A-F]+\/[0-9A-F]+),/;
const COMMIT = /desc: (?:COMMIT|ABORT) (\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2})(?:\.(\d{1,6}))? UTC/;

/** Reads one `pg_waldump` output line into `state` (records at or after `limit` ignored). */
export function readWaldumpLine(
  line: string,
  limit: bigint,
  state: { newestCommit?: NewestCommit; lastRecordLsn?: bigint },
): void {
  const lsn = parseLsn(LSN.exec(line)?.[1] ?? '');
  if (lsn === undefined || lsn >= limit) return;
  if (state.lastRecordLsn === undefined || lsn > state.lastRecordLsn) state.lastRecordLsn = lsn;
  const commit = COMMIT.exec(line);
  if (commit === null) return;
  const [, date, time, fraction = ''] = commit;
  const micros = Date.parse(`${date}T${time}Z`) * 1000 + Number(fraction.padEnd(6, '0'));
  if (state.newestCommit === undefined || lsn > state.newestCommit.lsn) {
    state.newestCommit = { micros, lsn };
  }
}

/**
 * Runs `pg_waldump` on one segment file; records at or after `limit` are ignored. A segment
 * that ends early (a `.partial`, padded with zeros) makes pg_waldump exit 1 at the end of its
 * records, after printing them: the records are what counts.
 */
export async function readSegmentRecords(
  pgWaldump: string,
  file: string,
  limit: bigint,
): Promise<SegmentRecords> {
  const child = spawn(pgWaldump, [file], {
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', TZ: 'UTC', LC_ALL: 'C' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-2000);
  });
  const closed = new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve(code));
  });
  const state: { newestCommit?: NewestCommit; lastRecordLsn?: bigint } = {};
  for await (const line of createInterface({ input: child.stdout })) {
    readWaldumpLine(line, limit, state);
  }
  const code = await closed;
  if (code !== 0 && state.lastRecordLsn === undefined) {
    throw new Error(`pg_waldump could not read ${file} (exit ${code}): ${stderr.trim()}`);
  }
  return { newestCommit: state.newestCommit, lastRecordLsn: state.lastRecordLsn };
}

/** The timeline whose file recovery reads for `segment`: the newest on the path begun by then. */
function timelineOfSegment(path: readonly TimelineStretch[], segment: bigint, segmentSize: number) {
  const begun = path.filter((stretch) => segmentOf(stretch.beginLsn, segmentSize) <= segment);
  return begun.at(-1)?.timeline ?? path[0]?.timeline ?? 1;
}

/** What {@link findNewestCommit} needs. */
export interface NewestCommitInput {
  readonly store: WalStore;
  readonly path: readonly TimelineStretch[];
  /** Records from here on count (the backup's end). */
  readonly fromLsn: bigint;
  /** Records before here count (how far replay reaches). */
  readonly toLsn: bigint;
  readonly segmentSize: number;
  readonly pgWaldump: string;
  /** Where the temporary directory for the segments is made. */
  readonly workDir: string;
  /** How many segments back to look for a commit (default 8). */
  readonly maxSegments?: number;
  /** Decrypts encrypted WAL; plain WAL needs none. */
  readonly identity?: WalIdentity | undefined;
}

/** What {@link findNewestCommit} found, and which files it read. */
export interface NewestCommitScan extends SegmentRecords {
  readonly filesRead: readonly string[];
}

/** Reads the segments before `toLsn`, newest first, until one holds a commit. */
export async function findNewestCommit(input: NewestCommitInput): Promise<NewestCommitScan> {
  const { segmentSize } = input;
  if (input.toLsn <= input.fromLsn) {
    return { newestCommit: undefined, lastRecordLsn: undefined, filesRead: [] };
  }
  const dir = await mkdtemp(join(input.workDir, 'pgbackup-restore-wal-'));
  const filesRead: string[] = [];
  let lastRecordLsn: bigint | undefined;
  try {
    const first = segmentOf(input.fromLsn, segmentSize);
    let segment = segmentOf(input.toLsn - 1n, segmentSize);
    for (let count = 0; segment >= first && count < (input.maxSegments ?? 8); count += 1) {
      const name = segmentFileName(
        timelineOfSegment(input.path, segment, segmentSize),
        segment,
        segmentSize,
      );
      const destination = join(dir, name);
      const fetched = await fetchWalFile({
        store: input.store,
        requested: name,
        destination,
        segmentSize,
        identity: input.identity,
      });
      if (fetched.kind === 'fetched') {
        filesRead.push(fetched.name);
        const records = await readSegmentRecords(input.pgWaldump, destination, input.toLsn);
        await rm(destination, { force: true });
        lastRecordLsn ??= records.lastRecordLsn;
        const commit = records.newestCommit;
        if (commit !== undefined && commit.lsn >= input.fromLsn) {
          return { newestCommit: commit, lastRecordLsn, filesRead };
        }
      }
      if (segmentStartLsn(segment, segmentSize) <= input.fromLsn) break;
      segment -= 1n;
    }
    return { newestCommit: undefined, lastRecordLsn, filesRead };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
