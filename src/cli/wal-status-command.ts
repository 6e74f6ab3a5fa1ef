/**
 * `pgbackup wal-status`: what the bucket's WAL lets a restore reach: the timelines, the covered
 * ranges, the gaps, how far replay from the newest binary backup gets, and the objects.
 */
import {
  assessWalContinuity,
  formatLsn,
  parseWalFileName,
  reachFrom,
  DEFAULT_WAL_SEGMENT_SIZE as SEGMENT_SIZE,
  segmentStartLsn,
  type WalContinuity,
} from '../retention/index.js';
import type { WalObject } from '../storage/index.js';
import { readBucketWal } from '../wal/bucket-wal.js';
import { walAnchorCandidates } from '../wal/prune-wal.js';
import { type Command, parseOptions, usageError } from './command.js';
import { formatSize } from './list-output.js';
import { parseSource } from './run-arguments.js';
import { openWalSource } from './wal-source.js';

/** How `pgbackup wal-status` is called. */
export const WAL_STATUS_USAGE = `usage: pgbackup wal-status (-f POLICY.yaml | --policy NAMESPACE/NAME) [-o text|json]

Reads the policy's WAL in its bucket as a recovery would and prints the timelines it follows,
the LSN ranges it can replay, the gaps between them, how far replay from the newest binary
backup reaches (and when the last WAL within that reach was stored), and the objects.

options:
  -f, --filename FILE     the BackupPolicy manifest: its bucket, reached with the AWS SDK's
                          default credentials chain
      --policy NS/NAME    the BackupPolicy in a cluster: its bucket Secret is read with your kubeconfig
  -o, --output FORMAT     text (default) or json
  -h, --help              show this help
`;

const OPTIONS = {
  filename: { type: 'string', short: 'f' },
  policy: { type: 'string' },
  output: { type: 'string', short: 'o', default: 'text' },
  json: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

/** The objects by kind. */
interface ObjectCounts {
  readonly segments: number;
  readonly partials: number;
  readonly histories: number;
  readonly other: number;
  /** Of the WAL objects, how many are stored encrypted (`.age`). */
  readonly encrypted: number;
  readonly totalBytes: number;
}

function countObjects(objects: readonly WalObject[]): ObjectCounts {
  const counts = { segments: 0, partials: 0, histories: 0, other: 0, encrypted: 0, totalBytes: 0 };
  for (const { name, sizeBytes } of objects) {
    const file = parseWalFileName(name, SEGMENT_SIZE);
    if (file?.encrypted === true) counts.encrypted += 1;
    if (file === undefined) counts.other += 1;
    else if (file.kind === 'history') counts.histories += 1;
    else if (file.partial) counts.partials += 1;
    else counts.segments += 1;
    counts.totalBytes += sizeBytes;
  }
  return counts;
}

/** When the newest object within `[from, to)` of the path was stored: WAL is complete up to about then. */
function storedUpToMs(objects: readonly WalObject[], toLsn: bigint): number | undefined {
  let newest: number | undefined;
  for (const { name, lastModifiedMs } of objects) {
    const file = parseWalFileName(name, SEGMENT_SIZE);
    if (file?.kind !== 'segment') continue;
    if (segmentStartLsn(file.segment, SEGMENT_SIZE) >= toLsn) continue;
    if (newest === undefined || lastModifiedMs > newest) newest = lastModifiedMs;
  }
  return newest;
}

/** The report, as JSON prints it (LSNs as PostgreSQL prints them). */
function reportOf(
  description: string,
  continuity: WalContinuity,
  objects: readonly WalObject[],
  newestBackup: { key: string; fromLsn: bigint } | undefined,
) {
  const lsn = (value: bigint | undefined) => (value === undefined ? null : formatLsn(value));
  const reach =
    newestBackup === undefined ? undefined : reachFrom(continuity, newestBackup.fromLsn);
  const reachedMs = reach === undefined ? undefined : storedUpToMs(objects, reach.reachableLsn);
  return {
    bucket: description,
    newestTimeline: continuity.newestTimeline ?? null,
    timelines: continuity.path.map(({ timeline, beginLsn, endLsn }) => ({
      timeline,
      beginLsn: lsn(beginLsn),
      endLsn: lsn(endLsn),
    })),
    ranges: continuity.ranges.map(({ fromLsn, toLsn, timelines }) => ({
      fromLsn: lsn(fromLsn),
      toLsn: lsn(toLsn),
      timelines,
    })),
    gaps: continuity.gaps.map(({ timeline, fromLsn, toLsn }) => ({
      timeline,
      fromLsn: lsn(fromLsn),
      toLsn: lsn(toLsn),
      missingBytes: Number(toLsn - fromLsn),
    })),
    newestLsn: lsn(continuity.newestLsn),
    unreachableTimelines: continuity.unreachableTimelines,
    fromNewestBackup:
      newestBackup === undefined || reach === undefined
        ? null
        : {
            backup: newestBackup.key,
            fromLsn: lsn(newestBackup.fromLsn),
            reachableLsn: lsn(reach.reachableLsn),
            storedUpTo: reachedMs === undefined ? null : new Date(reachedMs).toISOString(),
            gaps: reach.gaps.map(({ timeline, fromLsn, toLsn }) => ({
              timeline,
              fromLsn: lsn(fromLsn),
              toLsn: lsn(toLsn),
            })),
          },
    objects: countObjects(objects),
  };
}

type WalStatusReport = ReturnType<typeof reportOf>;

function describe(report: WalStatusReport): string {
  const lines = [`WAL in ${report.bucket}`];
  const { objects } = report;
  lines.push(
    `objects: ${objects.segments} segments, ${objects.partials} partial, ${objects.histories} history files, ${objects.other} other; ${formatSize(objects.totalBytes)}${objects.encrypted === 0 ? '' : `; ${objects.encrypted} encrypted (age)`}`,
  );
  if (report.newestTimeline === null) {
    lines.push('no WAL stored yet');
    return `${lines.join('\n')}\n`;
  }
  const path = report.timelines
    .map(({ timeline, endLsn }) =>
      endLsn === null ? `${timeline}` : `${timeline} (until ${endLsn})`,
    )
    .join(' → ');
  lines.push(`timelines: ${path}`);
  if (report.unreachableTimelines.length > 0) {
    lines.push(
      `not followed (a history file is missing): timelines ${report.unreachableTimelines.join(', ')}`,
    );
  }
  lines.push('ranges:');
  for (const range of report.ranges) {
    lines.push(`  ${range.fromLsn} – ${range.toLsn}  (timeline ${range.timelines.join(', ')})`);
  }
  lines.push(report.gaps.length === 0 ? 'gaps: none' : 'gaps:');
  for (const gap of report.gaps) {
    lines.push(
      `  timeline ${gap.timeline}: ${gap.fromLsn} – ${gap.toLsn} (${formatSize(gap.missingBytes)} missing)`,
    );
  }
  const reach = report.fromNewestBackup;
  if (reach === null) {
    lines.push('no committed binary backup to replay from');
  } else {
    const stored = reach.storedUpTo === null ? '' : `, WAL stored up to ${reach.storedUpTo}`;
    const gaps = reach.gaps.length === 0 ? 'no gap' : `${reach.gaps.length} gap(s) after it`;
    lines.push(
      `from the newest binary backup ${reach.backup} (its WAL ends at ${reach.fromLsn}): replay reaches ${reach.reachableLsn}${stored}; ${gaps}`,
    );
  }
  return `${lines.join('\n')}\n`;
}

/** Runs `pgbackup wal-status ...`; see {@link WAL_STATUS_USAGE}. */
export const runWalStatusCommand: Command = async (argv, io) => {
  const values = parseOptions(argv, OPTIONS, WAL_STATUS_USAGE);
  if (values.help) {
    io.stdout.write(WAL_STATUS_USAGE);
    return 0;
  }
  const output = values.json ? 'json' : values.output;
  if (output !== 'text' && output !== 'json') {
    throw usageError(`--output "${output}" is not supported; use text or json`, WAL_STATUS_USAGE);
  }
  const source = await openWalSource(parseSource(values.filename, values.policy, WAL_STATUS_USAGE));
  const location = { prefix: source.prefix, namespace: source.namespace, policy: source.name };
  const candidates = await walAnchorCandidates(source.backups, location);
  const wal = await readBucketWal(source.walStore);
  const continuity = assessWalContinuity({
    files: wal.entries,
    histories: wal.histories,
    segmentSize: SEGMENT_SIZE,
  });
  const newest = candidates.reduce<(typeof candidates)[number] | undefined>(
    (best, candidate) =>
      best === undefined || candidate.startLsn > best.startLsn ? candidate : best,
    undefined,
  );
  const report = reportOf(
    source.walStore.description,
    continuity,
    wal.objects,
    newest === undefined
      ? undefined
      : { key: newest.key, fromLsn: newest.stopLsn ?? newest.startLsn },
  );
  io.stdout.write(output === 'json' ? `${JSON.stringify(report, null, 2)}\n` : describe(report));
  return 0;
};
