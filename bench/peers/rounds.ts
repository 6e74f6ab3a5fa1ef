/**
 * Rounds of every tool, in an order that alternates by round (forward, then backward), after
 * one unmeasured round that warms the caches (the server's, the page cache, MinIO's); the
 * table of a size's medians and ratios (./peer-rows.ts); and the time per GiB of each tool
 * at each size.
 */
import { loadText } from '../cpu-seconds.js';
import { printTable } from '../runner-bench.js';
import type { PeerResults, PeerRow } from './peer-rows.js';
import type { PeerRun, PeerTool } from './tools.js';

/** The round number the unmeasured warm-up round runs as. */
const WARM_UP_ROUND = 99;

export async function runRounds(tools: readonly PeerTool[], rounds: number): Promise<PeerResults> {
  process.stderr.write('warm-up round (unmeasured)…\n');
  for (const tool of tools) await tool.run(WARM_UP_ROUND);
  const results = new Map<string, PeerRun[]>(tools.map((tool) => [tool.name, []]));
  for (let round = 0; round < rounds; round += 1) {
    const order = round % 2 === 0 ? tools : [...tools].reverse();
    const parts: string[] = [];
    for (const tool of order) {
      const run = await tool.run(round);
      results.get(tool.name)?.push(run);
      // The runner's RSS too, so a run cut short still tells its memory.
      const rss = run.nodeRssBytes > 0 ? ` (node ${(run.nodeRssBytes / MiB).toFixed(0)} MiB)` : '';
      parts.push(`${tool.name} ${run.seconds.toFixed(1)} s${rss}`);
    }
    process.stderr.write(
      `  round ${round + 1}/${rounds}: ${parts.join(', ')}; load ${loadText()}\n`,
    );
  }
  return results;
}

const MB = 1e6;
const MiB = 2 ** 20;

const orDash = (value: number | undefined, digits = 2) =>
  value === undefined ? '-' : value.toFixed(digits);

/** The table of one size. */
export function printPeerTable(rows: readonly PeerRow[]): void {
  const width = Math.max(4, ...rows.map((row) => row.tool.length));
  printTable<PeerRow>(
    [
      ['tool'.padEnd(width), (row) => row.tool.padEnd(width)],
      ['wall s', (row) => row.wall.median.toFixed(1)],
      ['min-max s', (row) => `${row.wall.min.toFixed(1)}-${row.wall.max.toFixed(1)}`],
      ['DB MB/s', (row) => row.megabytesPerSecond.toFixed(1)],
      ['CPU s tool', (row) => row.toolCpuSeconds.toFixed(1)],
      ['CPU s server', (row) => row.serverCpuSeconds.toFixed(1)],
      ['CPU s MinIO', (row) => row.minioCpuSeconds.toFixed(1)],
      ['stored MB', (row) => (row.storedBytes / MB).toFixed(1)],
      ['peak RSS MiB', (row) => (row.peakRssBytes / MiB).toFixed(0)],
      ['ours/it wall', (row) => orDash(row.wallRatio, 3)],
      ['ours/it CPU', (row) => orDash(row.cpuRatio)],
      ['ours/it size', (row) => orDash(row.storedRatio)],
      ['ours is', (row) => row.comparedWith ?? ''],
    ],
    rows,
  );
}

/** Seconds per GiB of each tool at each size: flat, or growing with the size? */
export function printTimePerGib(sizes: readonly { gib: number; rows: readonly PeerRow[] }[]): void {
  const tools = sizes[0]?.rows.map((row) => row.tool) ?? [];
  const width = Math.max(4, ...tools.map((tool) => tool.length));
  console.log('median wall seconds per GiB of database, by size:');
  printTable<string>(
    [
      ['tool'.padEnd(width), (tool) => tool.padEnd(width)],
      ...sizes.map(
        ({ gib, rows }) =>
          [
            `${gib.toFixed(2)} GiB`,
            (tool: string) => {
              const row = rows.find((candidate) => candidate.tool === tool);
              return row === undefined ? '-' : (row.wall.median / gib).toFixed(1);
            },
          ] as const,
      ),
    ],
    tools,
  );
}
