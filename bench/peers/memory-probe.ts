/**
 * A diagnostic preloaded into the runner by bench/peers (BENCH_MEMORY_PROBE=DIR adds
 * `--import` of this file to its NODE_OPTIONS): samples `process.memoryUsage()` every 50 ms
 * and, at exit, writes the peaks of each field (RSS, V8 heap, external memory, ArrayBuffers)
 * to DIR/memory-PID.json, to tell where the runner's peak RSS lies.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

const dir = process.env.BENCH_MEMORY_PROBE;
if (dir !== undefined && dir !== '') {
  const peaks: Record<string, number> = {};
  const sample = () => {
    for (const [field, bytes] of Object.entries(process.memoryUsage())) {
      peaks[field] = Math.max(peaks[field] ?? 0, bytes);
    }
  };
  const timer = setInterval(sample, 50);
  timer.unref();
  process.on('exit', () => {
    sample();
    writeFileSync(join(dir, `memory-${process.pid}.json`), `${JSON.stringify(peaks)}\n`);
  });
}
