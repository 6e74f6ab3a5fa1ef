/** pgbench, the stock load generator, against the environment's primary. */
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { runTool } from './env/processes.js';
import { serverAddress } from './postgres.js';
import { requireEnv } from './variables.js';

function pgbenchEnv(): Record<string, string> {
  return { PGUSER: requireEnv('PGUSER'), PGPASSWORD: requireEnv('PGPASSWORD') };
}

function connectionArgs(database: string): string[] {
  const { host, port } = serverAddress('primary');
  return ['-h', host, '-p', String(port), database];
}

/** `pgbench -i -s SCALE`: the four pgbench tables, 100,000 accounts per unit of scale. */
export async function initializePgbench(database: string, scale: number): Promise<void> {
  await runTool(
    join(requireEnv('PGBACKUP_PG_BIN'), 'pgbench'),
    ['-i', '-q', '-s', String(scale), ...connectionArgs(database)],
    { env: pgbenchEnv() },
  );
}

/** Starts pgbench's TPC-B-like load for `seconds`; kill the child to stop it sooner. */
export function startPgbenchLoad(database: string, seconds: number): ChildProcess {
  return spawn(
    join(requireEnv('PGBACKUP_PG_BIN'), 'pgbench'),
    ['-c', '4', '-j', '2', '-T', String(seconds), ...connectionArgs(database)],
    { env: { ...process.env, ...pgbenchEnv() }, stdio: 'ignore' },
  );
}
