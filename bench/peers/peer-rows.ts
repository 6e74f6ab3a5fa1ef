/**
 * The medians of a size's rounds per tool, and the ratios ours/each, computed round by round
 * (both ran in the same round) and then their median. Pure: test/unit/bench/peer-rows.test.ts.
 */
import { median } from '../wal-lag.js';
import type { PeerRun, PeerTool } from './tools.js';

/** Each tool's runs, by name, in round order. */
export type PeerResults = ReadonlyMap<string, readonly PeerRun[]>;

const MB = 1e6;

/** The median, smallest and largest of some numbers. */
function spread(values: readonly number[]): { median: number; min: number; max: number } {
  return { median: median(values), min: Math.min(...values), max: Math.max(...values) };
}

/** A tool's medians and its ratios against the tool of ours it is compared with. */
export interface PeerRow {
  readonly tool: string;
  readonly wall: { median: number; min: number; max: number };
  readonly megabytesPerSecond: number;
  readonly toolCpuSeconds: number;
  readonly serverCpuSeconds: number;
  readonly minioCpuSeconds: number;
  readonly storedBytes: number;
  readonly peakRssBytes: number;
  readonly nodeRssBytes: number;
  readonly comparedWith?: string | undefined;
  readonly wallRatio?: number | undefined;
  readonly cpuRatio?: number | undefined;
  readonly storedRatio?: number | undefined;
}

const totalCpu = (run: PeerRun) => run.toolCpuSeconds + run.serverCpuSeconds + run.minioCpuSeconds;

/** The rows of one size: medians per tool, ratios round by round. */
export function peerRows(
  tools: readonly PeerTool[],
  results: PeerResults,
  databaseBytes: number,
): PeerRow[] {
  return tools.map((tool) => {
    const runs = results.get(tool.name) ?? [];
    const ours = tool.comparedWith === undefined ? undefined : results.get(tool.comparedWith);
    const ratio = (value: (run: PeerRun) => number) =>
      ours === undefined || ours.length === 0
        ? undefined
        : median(runs.map((run, index) => value(ours[index] ?? run) / Math.max(value(run), 1e-9)));
    const wall = spread(runs.map((run) => run.seconds));
    return {
      tool: tool.name,
      wall,
      megabytesPerSecond: databaseBytes / MB / wall.median,
      toolCpuSeconds: median(runs.map((run) => run.toolCpuSeconds)),
      serverCpuSeconds: median(runs.map((run) => run.serverCpuSeconds)),
      minioCpuSeconds: median(runs.map((run) => run.minioCpuSeconds)),
      storedBytes: median(runs.map((run) => run.storedBytes)),
      peakRssBytes: median(runs.map((run) => run.peakRssBytes)),
      nodeRssBytes: Math.max(0, ...runs.map((run) => run.nodeRssBytes)),
      comparedWith: tool.comparedWith,
      wallRatio: ratio((run) => run.seconds),
      cpuRatio: ratio(totalCpu),
      storedRatio: ratio((run) => run.storedBytes),
    };
  });
}

/** What a variant of ours (encrypted) costs against ours: its value / ours, per round, median. */
export interface VariantCost {
  readonly wall: number;
  /** The variant's own processes (the runner and its tool). */
  readonly toolCpu: number;
  /** Everything: the tool, the server's backends, MinIO. */
  readonly totalCpu: number;
  readonly stored: number;
}

/** `variant`'s cost against `base`, from the rounds both ran in. */
export function variantCost(results: PeerResults, variant: string, base: string): VariantCost {
  const runs = results.get(variant) ?? [];
  const baseRuns = results.get(base) ?? [];
  const ratio = (value: (run: PeerRun) => number) =>
    median(
      runs.flatMap((run, index) => {
        const baseRun = baseRuns[index];
        return baseRun === undefined ? [] : [value(run) / Math.max(value(baseRun), 1e-9)];
      }),
    );
  return {
    wall: ratio((run) => run.seconds),
    toolCpu: ratio((run) => run.toolCpuSeconds),
    totalCpu: ratio(totalCpu),
    stored: ratio((run) => run.storedBytes),
  };
}
