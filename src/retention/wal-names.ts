/**
 * WAL as PostgreSQL names it: LSNs, segment file names (`TTTTTTTTXXXXXXXXYYYYYYYY`), the
 * suffixes `pg_receivewal` gives them (compression, `.partial`), the `.age` of an encrypted
 * object, timeline history files and their contents. Pure: the receiver, WAL retention, the
 * continuity check and `wal-fetch` all read names through this one module.
 */

/** The default WAL segment size (initdb --wal-segsize): 16 MiB. */
export const DEFAULT_WAL_SEGMENT_SIZE = 16 * 1024 * 1024;

/** Compression of a WAL object, as `spec.continuous.compression`. */
export type WalCompression = 'zstd' | 'gzip' | 'lz4' | 'none';

/** The file-name suffix of each compression, as pg_receivewal writes it (`.zst` for zstd). */
export const WAL_COMPRESSION_SUFFIX: Readonly<Record<WalCompression, string>> = {
  zstd: '.zst',
  gzip: '.gz',
  lz4: '.lz4',
  none: '',
};

/**
 * The suffix of an object encrypted in the age format, last of all: `<segment>.zst.age`,
 * `<segment>.zst.partial.age`, `<timeline>.history.age`. `age -d` of such an object gives
 * back the file pg_receivewal wrote, under its own name without `.age`.
 */
export const ENCRYPTED_SUFFIX = '.age';

const LSN_TEXT = /^([0-9A-Fa-f]{1,8})\/([0-9A-Fa-f]{1,8})$/;

/** `16/B374D848` as a number of bytes; undefined when the text is not an LSN. */
export function parseLsn(text: string): bigint | undefined {
  const match = LSN_TEXT.exec(text);
  if (match === null) return undefined;
  return (BigInt(`0x${match[1]}`) << 32n) | BigInt(`0x${match[2]}`);
}

/** A number of bytes as PostgreSQL prints an LSN: `16/B374D848`. */
export function formatLsn(lsn: bigint): string {
  const high = (lsn >> 32n).toString(16).toUpperCase();
  const low = (lsn & 0xffff_ffffn).toString(16).toUpperCase();
  return `${high}/${low}`;
}

function segmentsPerXLogId(segmentSize: number): bigint {
  return 0x1_0000_0000n / BigInt(segmentSize);
}

/** The segment that holds `lsn`. */
export function segmentOf(lsn: bigint, segmentSize: number): bigint {
  return lsn / BigInt(segmentSize);
}

/** The first LSN of a segment. */
export function segmentStartLsn(segment: bigint, segmentSize: number): bigint {
  return segment * BigInt(segmentSize);
}

function hex8(value: bigint | number): string {
  return value.toString(16).toUpperCase().padStart(8, '0');
}

/** `000000010000000A000000FF`: the file name of a segment on a timeline. */
export function segmentFileName(timeline: number, segment: bigint, segmentSize: number): string {
  const perId = segmentsPerXLogId(segmentSize);
  return `${hex8(timeline)}${hex8(segment / perId)}${hex8(segment % perId)}`;
}

/** `00000002.history`: the history file of a timeline. */
export function historyFileName(timeline: number): string {
  return `${hex8(timeline)}.history`;
}

/** One WAL file, read from its name. */
export type WalFile =
  | {
      readonly kind: 'segment';
      /** The name as stored, e.g. `000000010000000000000003.zst.partial`. */
      readonly name: string;
      /** The 24-hex segment name alone. */
      readonly segmentName: string;
      readonly timeline: number;
      readonly segment: bigint;
      readonly compression: WalCompression;
      /** The unfinished segment (or the last one of a timeline that ended inside it). */
      readonly partial: boolean;
      /** Stored encrypted (age), after compression: the name ends in `.age`. */
      readonly encrypted: boolean;
    }
  | {
      readonly kind: 'history';
      readonly name: string;
      readonly timeline: number;
      readonly compression: WalCompression;
      readonly encrypted: boolean;
    };

const SEGMENT_NAME =
  /^([0-9A-F]{8})([0-9A-F]{8})([0-9A-F]{8})(\.zst|\.gz|\.lz4)?(\.partial)?(\.age)?$/;
const HISTORY_NAME = /^([0-9A-F]{8})\.history(\.zst|\.gz|\.lz4)?(\.age)?$/;

const COMPRESSION_OF_SUFFIX: Readonly<Record<string, WalCompression>> = {
  '.zst': 'zstd',
  '.gz': 'gzip',
  '.lz4': 'lz4',
};

/**
 * Reads a WAL file name (no directory or key prefix); undefined for anything else (a
 * `.backup` label, a temporary file). History files are stored uncompressed by the receiver,
 * but a compressed one is recognised. Any of them may end in `.age` (encrypted).
 */
export function parseWalFileName(name: string, segmentSize: number): WalFile | undefined {
  const segment = SEGMENT_NAME.exec(name);
  if (segment !== null) {
    const [, tli = '', log = '', seg = ''] = segment;
    const perId = segmentsPerXLogId(segmentSize);
    const low = BigInt(`0x${seg}`);
    if (low >= perId) return undefined;
    const timeline = Number.parseInt(tli, 16);
    if (timeline === 0) return undefined;
    return {
      kind: 'segment',
      name,
      segmentName: `${tli}${log}${seg}`,
      timeline,
      segment: BigInt(`0x${log}`) * perId + low,
      compression: COMPRESSION_OF_SUFFIX[segment[4] ?? ''] ?? 'none',
      partial: segment[5] !== undefined,
      encrypted: segment[6] !== undefined,
    };
  }
  const history = HISTORY_NAME.exec(name);
  if (history !== null) {
    const timeline = Number.parseInt(history[1] ?? '', 16);
    if (timeline < 2) return undefined;
    return {
      kind: 'history',
      name,
      timeline,
      compression: COMPRESSION_OF_SUFFIX[history[2] ?? ''] ?? 'none',
      encrypted: history[3] !== undefined,
    };
  }
  return undefined;
}

/**
 * The name a WAL file is stored under: the segment or history name, the compression suffix,
 * `.partial` for an unfinished segment, `.age` when encrypted.
 */
export function walObjectName(
  fileName: string,
  options: {
    readonly compression: WalCompression;
    readonly partial?: boolean;
    readonly encrypted: boolean;
  },
): string {
  return `${fileName}${WAL_COMPRESSION_SUFFIX[options.compression]}${options.partial === true ? '.partial' : ''}${options.encrypted ? ENCRYPTED_SUFFIX : ''}`;
}

/** One line of a timeline history file: the parent timeline ended at `switchLsn`. */
export interface TimelineSwitch {
  readonly parentTimeline: number;
  /** The first LSN that belongs to the next timeline, not the parent. */
  readonly switchLsn: bigint;
  readonly reason: string;
}

/**
 * The lines of a `<timeline>.history` file, oldest first: which timelines led to this one and
 * where each ended. Throws on a line that is neither a comment, blank, nor `TLI<tab>LSN<tab>reason`.
 */
export function parseTimelineHistory(text: string): TimelineSwitch[] {
  const switches: TimelineSwitch[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const [tli, lsnText, ...reason] = line.split(/\s+/);
    const parentTimeline = Number(tli);
    const switchLsn = parseLsn(lsnText ?? '');
    if (!Number.isInteger(parentTimeline) || parentTimeline < 1 || switchLsn === undefined) {
      throw new Error(`not a timeline history line: ${JSON.stringify(raw)}`);
    }
    switches.push({ parentTimeline, switchLsn, reason: reason.join(' ') });
  }
  return switches;
}

/**
 * How many bytes of object metadata a history's switches may take: S3 allows 2 KiB of user
 * metadata per object, shared with the digest and the recipients.
 */
export const TIMELINE_SWITCHES_METADATA_BYTES = 1024;

/**
 * A history file's switches as object metadata (`1@0/3000158,2@0/5000000`): an encrypted
 * history file cannot be read without the identity, yet the receiver, WAL retention and
 * `wal-status` need its switch points, which hold no data of the database. When the whole
 * history does not fit in {@link TIMELINE_SWITCHES_METADATA_BYTES}, the newest switches that
 * fit are kept (the oldest timelines matter least: retention has let their WAL go).
 */
export function formatTimelineSwitches(switches: readonly TimelineSwitch[]): string {
  const entries = switches.map((line) => `${line.parentTimeline}@${formatLsn(line.switchLsn)}`);
  while (entries.join(',').length > TIMELINE_SWITCHES_METADATA_BYTES) entries.shift();
  return entries.join(',');
}

/**
 * Reads what {@link formatTimelineSwitches} wrote (the reasons are not kept). Throws on text
 * that is not such a list.
 */
export function parseTimelineSwitches(text: string): TimelineSwitch[] {
  if (text.trim() === '') return [];
  return text.split(',').map((entry) => {
    const [tli = '', lsnText = '', ...rest] = entry.trim().split('@');
    const parentTimeline = Number(tli);
    const switchLsn = parseLsn(lsnText);
    if (
      rest.length > 0 ||
      !Number.isInteger(parentTimeline) ||
      parentTimeline < 1 ||
      switchLsn === undefined
    ) {
      throw new Error(`not a list of timeline switches (TLI@LSN,…): ${JSON.stringify(entry)}`);
    }
    return { parentTimeline, switchLsn, reason: '' };
  });
}
