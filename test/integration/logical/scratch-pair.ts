/**
 * A private primary and streaming replica for the tests that stop a replica or change its
 * settings, which the shared pair must not suffer: a scratch primary, and a replica cloned
 * from it with `pg_basebackup -R` and started on its own address.
 */
import { appendFile, chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runTool, waitUntil } from '../../harness/env/processes.js';
import { withClient } from '../../harness/postgres.js';
import { type RestoredServer, startRestoredServer } from '../../harness/restore.js';
import { type ScratchServer, startScratchPrimary } from '../../harness/scratch-postgres.js';
import { requireEnv } from '../../harness/variables.js';
import { libpqEnvironment } from './source-databases.js';

/** The pair; `stopReplica` stops the replica only, `stop` everything. */
export interface ScratchPair {
  readonly primary: ScratchServer;
  readonly replica: RestoredServer;
  stopReplica(): Promise<void>;
  stop(): Promise<void>;
}

/** `host:port` of a server, as spec.target.hosts lists it. */
export function hostOf(server: { host: string; port: number }): string {
  return `${server.host}:${server.port}`;
}

/**
 * Clones a streaming replica of `primary` with `pg_basebackup -R` and starts it on `host`;
 * `settings` are appended to its configuration (for example `max_standby_streaming_delay = 0`).
 * Its `stop` also removes its directory.
 */
export async function startScratchReplica(
  primary: ScratchServer,
  host: string,
  settings: readonly string[] = [],
): Promise<RestoredServer> {
  const dir = await mkdtemp(join(tmpdir(), 'pgbackup-scratch-replica-'));
  try {
    // The server's account (postgres, when tests run as root) must reach the data directory.
    await chmod(dir, 0o711);
    const dataDir = join(dir, 'data');
    await runTool(
      join(requireEnv('PGBACKUP_PG_BIN'), 'pg_basebackup'),
      ['--pgdata', dataDir, '--write-recovery-conf', '--wal-method=stream', '--checkpoint=fast'],
      { env: libpqEnvironment(primary) },
    );
    await appendFile(join(dataDir, 'postgresql.auto.conf'), `${settings.join('\n')}\n`);
    const replica = await startRestoredServer(dataDir, host);
    return {
      ...replica,
      stop: async () => {
        await replica.stop();
        await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}

/** Starts the pair on two loopback addresses; see {@link startScratchReplica}. */
export async function startScratchPair(
  hosts: { primary: string; replica: string },
  replicaSettings: readonly string[] = [],
): Promise<ScratchPair> {
  const primary = await startScratchPrimary(hosts.primary);
  const replica = await startScratchReplica(primary, hosts.replica, replicaSettings).catch(
    async (error: unknown) => {
      await primary.stop();
      throw error;
    },
  );
  let replicaRunning = true;
  const stopReplica = async () => {
    if (!replicaRunning) return;
    replicaRunning = false;
    await replica.stop();
  };
  return {
    primary,
    replica,
    stopReplica,
    stop: async () => {
      await stopReplica();
      await primary.stop();
    },
  };
}

/** Waits until `table` of `database`, created on the primary, is visible on `replica`. */
export async function waitForReplicaTable(
  replica: RestoredServer,
  database: string,
  table: string,
  timeoutMs: number,
): Promise<void> {
  await waitUntil(
    `${table} of ${database} on the replica ${hostOf(replica)}`,
    () =>
      withClient(replica.client(database), async (client) => {
        const result = await client.query('SELECT to_regclass($1) IS NOT NULL AS ready', [table]);
        return result.rows[0]?.ready === true;
      }),
    { timeoutMs },
  );
}
