/**
 * bench/binary: our binary backup (`pgbackup run -f`, file mode: pg_basebackup streamed
 * through the runner into S3) against the peers that do the same job on the same database,
 * the same MinIO (over TLS) and the same two cores, in one run:
 *   - pgBackRest 2.45 (Debian) `backup --type=full`, process-max 1 (against ours with zstd on the
 *     reading thread) and 2 (against ours with compressionWorkers 2), zst at the same level;
 *   - barman-cloud-backup (Debian's barman-cli-cloud 3.4): gzip, as it has no zstd;
 *   - the stock pipe `pg_basebackup -D - -Ft -X fetch --compress=client-zstd:level=N | aws s3 cp -`.
 * WAL-G is not among them: the Go module proxy here refuses github.com/wal-g/wal-g (403, "not
 * available"), so it cannot be built (docs/performance.md).
 * Every tool takes a fast checkpoint. Prints per tool the wall time (median, min-max), the
 * database MB/s, CPU seconds (the tool's processes, the server's backends, MinIO), stored
 * bytes, peak RSS of its process tree, and ours/each ratios; then seconds per GiB by size.
 *
 *   npm run bench:binary                         # 0.25 GiB, 5 rounds: a smoke run
 *   BENCH_GIB=1 BENCH_ROUNDS=5 npm run bench:binary
 *   npm run bench:binary:flat                    # 2, 4 and 8 GiB: time per GiB (≈15 GB in /tmp)
 *
 *   BENCH_ENCRYPTION=1 BENCH_GIB=1 npm run bench:binary   # also `ours zstd age`: encryption's cost
 *
 * Settings (bench/peers/bench.ts): BENCH_GIB, BENCH_ROUNDS, BENCH_LEVEL, BENCH_TOOLS,
 * BENCH_CPU_PROF, BENCH_ENCRYPTION, BENCH_NODE_OPTIONS, BENCH_MEMORY_PROBE. It starts its own servers (bench/peers/servers.ts); no `npm run env:up`.
 */
import { runPeerBench } from './peers/bench.js';
import { newRecipient } from './peers/encryption.js';
import {
  barmanTool,
  basebackupPipeTool,
  encryptedVariants,
  oursTool,
  pgbackrestTool,
} from './peers/tools.js';

const OURS = 'ours zstd';
/** ours with zstd workers = the machine's two cores, against pgBackRest process-max 2. */
const OURS_2 = 'ours zstd workers=2';
/** BENCH_ENCRYPTION=1: ours zstd encrypting for an age key made for this run. */
const recipient = process.env.BENCH_ENCRYPTION === '1' ? await newRecipient() : undefined;

await runPeerBench({
  name: 'binary',
  describe: ({ level }) => `zstd level ${level} (barman: gzip), checkpoint fast`,
  databaseBytes: async (_servers, clusterBytes) => clusterBytes,
  tools: (servers, runner, compression) => [
    oursTool(servers, OURS, {
      runner,
      type: 'binary',
      compression,
      cpuProfileDir: process.env.BENCH_CPU_PROF,
    }),
    oursTool(servers, OURS_2, {
      runner,
      type: 'binary',
      compression: { ...compression, workers: 2 },
      cpuProfileDir: process.env.BENCH_CPU_PROF,
    }),
    ...encryptedVariants(servers, OURS, { runner, type: 'binary', compression }, recipient),
    pgbackrestTool(servers, 1, OURS, compression),
    pgbackrestTool(servers, 2, OURS_2, compression),
    barmanTool(servers, OURS),
    basebackupPipeTool(servers, 'pg_basebackup | aws s3 cp', OURS, compression),
  ],
});
