import { describe, expect, it } from 'vitest';
import {
  type ProcessStat,
  processTree,
  readProcessStat,
  startProcessSampler,
} from '../../../bench/process-sampler.js';

function stat(pid: number, parentPid: number): ProcessStat {
  return {
    pid,
    name: `p${pid}`,
    parentPid,
    cpuSeconds: 0,
    waitedChildrenCpuSeconds: 0,
    rssBytes: 1,
  };
}

describe('bench/process-sampler', () => {
  it('finds a process and all its descendants, whatever order /proc lists them in', () => {
    const stats = [stat(30, 20), stat(20, 10), stat(10, 1), stat(11, 1), stat(40, 30)];
    expect(
      processTree(10, stats)
        .map((process) => process.pid)
        .sort(),
    ).toEqual([10, 20, 30, 40]);
    expect(processTree(11, stats).map((process) => process.pid)).toEqual([11]);
  });

  it('reads its own process from /proc, and nothing for a process that is gone', () => {
    const self = readProcessStat(process.pid);
    expect(self?.parentPid).toBe(process.ppid);
    expect(self?.rssBytes).toBeGreaterThan(0);
    expect(readProcessStat(2 ** 22 + 1)).toBeUndefined();
  });

  it('counts the memory of the selected processes and the CPU of those selected for CPU only', () => {
    const sampler = startProcessSampler((stats) => ({
      memoryAndCpu: stats.filter((stat) => stat.pid === process.pid),
      cpuOnly: [],
    }));
    const tally = sampler.stop();
    expect(tally.peakRssBytes).toBeGreaterThan(0);
    expect(tally.peakRssBytes).toBe(
      Math.max(tally.peakRssBytesFirstHalf, tally.peakRssBytesSecondHalf),
    );
    expect(tally.cpuSeconds).toBe(tally.memoryProcessesCpuSeconds);
    expect([...tally.byName.keys()]).toHaveLength(1);
  });
});
