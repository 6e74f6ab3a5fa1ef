/**
 * bench/restore's table: per size and tool, the wall time (median, min, max), the database's
 * MB/s at the median, CPU seconds, peak RSS and MinIO's CPU (medians), and ours over each
 * other tool, as the median of the rounds' ratios (both ran in the same round).
 */
import { loadText } from '../cpu-seconds.js';
import { median, printTable } from '../runner-bench.js';
import type { RestoreMeasure } from './measure.js';

/** One tool's measured restores, in round order. */
export type ToolRuns = (RestoreMeasure & { readonly restoredBytes: number })[];

/** What was measured for one database size. */
export interface SizeResult {
  readonly gib: number;
  readonly scale: number;
  readonly clusterBytes: number;
  readonly runs: ReadonlyMap<string, ToolRuns>;
  /** Whether the page cache was dropped before each restore. */
  readonly dropped: boolean;
}

interface Row {
  readonly size: string;
  readonly tool: string;
  readonly runs: ToolRuns;
  readonly clusterBytes: number;
  readonly ours: ToolRuns | undefined;
}

const of = (runs: ToolRuns, value: (run: RestoreMeasure) => number) => median(runs.map(value));

function ratio(row: Row): string {
  if (row.ours === undefined || row.tool === 'ours') return '';
  const ours = row.ours;
  return median(
    row.runs.map((run, round) => (ours[round]?.seconds ?? Number.NaN) / run.seconds),
  ).toFixed(3);
}

/** Prints the table, one row per size and tool, and the ratios. */
export function printRestoreReport(
  sizes: readonly SizeResult[],
  rounds: number,
  loadAtStart: string,
): void {
  const cold = sizes.every((size) => size.dropped)
    ? 'page cache dropped before each restore'
    : 'page cache NOT dropped';
  console.log(
    `bench/restore: ${rounds} rounds, alternating order, zstd level 3, MinIO over TLS, ${cold}; load average ${loadAtStart} at the start, ${loadText()} at the end`,
  );
  const rows: Row[] = sizes.flatMap((size) =>
    [...size.runs].map(([tool, runs]) => ({
      size: `${(size.clusterBytes / 2 ** 30).toFixed(2)} (s ${size.scale})`,
      tool,
      runs,
      clusterBytes: size.clusterBytes,
      ours: size.runs.get('ours'),
    })),
  );
  printTable<Row>(
    [
      ['GiB (scale)   ', (row) => row.size],
      ['tool          ', (row) => row.tool.padEnd(14)],
      ['median s', (row) => of(row.runs, (run) => run.seconds).toFixed(1)],
      ['min s', (row) => Math.min(...row.runs.map((run) => run.seconds)).toFixed(1)],
      ['max s', (row) => Math.max(...row.runs.map((run) => run.seconds)).toFixed(1)],
      ['MB/s', (row) => (row.clusterBytes / 1e6 / of(row.runs, (run) => run.seconds)).toFixed(0)],
      ['CPU s', (row) => of(row.runs, (run) => run.cpuSeconds).toFixed(1)],
      ['peak RSS MiB', (row) => (of(row.runs, (run) => run.peakRssBytes) / 2 ** 20).toFixed(0)],
      ['MinIO CPU s', (row) => of(row.runs, (run) => run.minioCpuSeconds).toFixed(1)],
      ['ours/this', ratio],
    ],
    rows,
  );
}
