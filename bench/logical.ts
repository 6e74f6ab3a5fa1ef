/**
 * bench/logical: our logical backup (`pgbackup run -f --type logical`: pg_dumpall
 * --globals-only and pg_dump -Fc of the database, streamed through the runner into S3) against
 * the stock pipe `pg_dump -Fc bench | aws s3 cp -`, on the same database, the same MinIO (over
 * TLS) and the same two cores, in one run. pgBackRest, barman-cloud-backup and WAL-G take no
 * logical backups, so the pipe is the only peer. Both use pg_dump's own compression (-Fc's
 * default, gzip). Prints per tool the wall time (median, min-max), the database MB/s, CPU
 * seconds (the tool's processes, the server's backends, MinIO), stored bytes, peak RSS of its
 * process tree and ours/pipe ratios; then seconds per GiB by size.
 *
 *   npm run bench:logical                        # 0.25 GiB, 5 rounds: a smoke run
 *   BENCH_GIB=1 BENCH_ROUNDS=5 npm run bench:logical
 *   npm run bench:logical:flat                   # 2, 4 and 8 GiB: time per GiB
 *
 * Settings (bench/peers/bench.ts): BENCH_GIB, BENCH_ROUNDS, BENCH_TOOLS, BENCH_CPU_PROF,
 * BENCH_ENCRYPTION (also ours encrypting: its cost against ours), BENCH_NODE_OPTIONS. It
 * starts its own servers (bench/peers/servers.ts); no `npm run env:up`.
 */
import { runPeerBench } from './peers/bench.js';
import { newRecipient } from './peers/encryption.js';
import { benchDatabaseBytes } from './peers/servers.js';
import { dumpPipeTool, encryptedVariants, oursTool } from './peers/tools.js';

const OURS = 'ours pg_dump -Fc';
/** BENCH_ENCRYPTION=1: ours encrypting for an age key made for this run. */
const recipient = process.env.BENCH_ENCRYPTION === '1' ? await newRecipient() : undefined;

await runPeerBench({
  name: 'logical',
  describe: () => 'pg_dump -Fc default compression (gzip) for both',
  databaseBytes: (servers) => benchDatabaseBytes(servers),
  tools: (servers, runner, compression) => [
    oursTool(servers, OURS, {
      runner,
      type: 'logical',
      compression,
      cpuProfileDir: process.env.BENCH_CPU_PROF,
    }),
    ...encryptedVariants(servers, OURS, { runner, type: 'logical', compression }, recipient),
    dumpPipeTool(servers, OURS),
  ],
});
