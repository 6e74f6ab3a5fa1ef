import { describe, expect, it } from 'vitest';
import { peerRows, variantCost } from '../../../bench/peers/peer-rows.js';
import type { PeerRun, PeerTool } from '../../../bench/peers/tools.js';

function run(seconds: number, cpu: number, storedBytes: number, peakRssBytes = 0): PeerRun {
  return {
    seconds,
    toolCpuSeconds: cpu,
    serverCpuSeconds: 0,
    minioCpuSeconds: 0,
    peakRssBytes,
    nodeRssBytes: peakRssBytes,
    exactCpu: true,
    stderr: '',
    storedBytes,
  };
}

function tool(name: string, comparedWith?: string): PeerTool {
  return {
    name,
    ...(comparedWith === undefined ? {} : { comparedWith }),
    run: () => Promise.reject(new Error('not run in a unit test')),
  };
}

describe('bench/peers rows', () => {
  const tools = [tool('ours'), tool('peer', 'ours')];

  it('takes the ratios round by round, then their median, not the ratio of the medians', () => {
    // Round 2 is slow for both (a loaded machine): per round ours is half the peer's time.
    const results = new Map([
      ['ours', [run(10, 1, 100), run(100, 1, 100), run(12, 1, 100)]],
      ['peer', [run(20, 2, 200), run(200, 2, 200), run(24, 2, 200)]],
    ]);
    const [ours, peer] = peerRows(tools, results, 1e9);
    expect(peer?.wallRatio).toBeCloseTo(0.5);
    expect(peer?.cpuRatio).toBeCloseTo(0.5);
    expect(peer?.storedRatio).toBeCloseTo(0.5);
    expect(ours?.wallRatio).toBeUndefined();
    expect(ours?.wall).toEqual({ median: 12, min: 10, max: 100 });
    expect(ours?.megabytesPerSecond).toBeCloseTo(1000 / 12);
  });

  it('counts the server and MinIO in the CPU ratio, and keeps the worst round of node RSS', () => {
    const results = new Map([
      ['ours', [{ ...run(10, 1, 1, 50), minioCpuSeconds: 1 }, run(10, 2, 1, 80)]],
      ['peer', [{ ...run(10, 1, 1), serverCpuSeconds: 3 }, run(10, 2, 1)]],
    ]);
    const [ours, peer] = peerRows(tools, results, 1);
    // Round 1: (1 + 1) / (1 + 3) = 0.5; round 2: 2 / 2 = 1; median 0.75.
    expect(peer?.cpuRatio).toBeCloseTo(0.75);
    expect(ours?.nodeRssBytes).toBe(80);
    expect(ours?.peakRssBytes).toBe(65);
  });

  it('gives a variant of ours (encrypted) its cost against ours: variant / ours per round, then the median', () => {
    const results = new Map([
      ['ours', [run(10, 2, 100), run(40, 4, 100), run(10, 2, 100)]],
      [
        'ours age',
        [
          { ...run(11, 3, 101), minioCpuSeconds: 1 },
          { ...run(40, 4, 101), minioCpuSeconds: 0 },
          { ...run(12, 2, 101), minioCpuSeconds: 0 },
        ],
      ],
    ]);
    const cost = variantCost(results, 'ours age', 'ours');
    // Wall: 1.1, 1.0, 1.2 -> 1.1; tool CPU: 1.5, 1.0, 1.0 -> 1.0; total CPU: 2.0, 1.0, 1.0 -> 1.0.
    expect(cost.wall).toBeCloseTo(1.1);
    expect(cost.toolCpu).toBeCloseTo(1.0);
    expect(cost.totalCpu).toBeCloseTo(1.0);
    expect(cost.stored).toBeCloseTo(1.01);
  });
});
