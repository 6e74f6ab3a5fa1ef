/**
 * A private primary and streaming replica for the tests that stop a replica or change its
 * settings, which the shared pair must not suffer: a scratch primary, and a replica cloned
 * from it with `pg_basebackup -R` and started on its own address.
 */
import { appendFile, chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runTool } from '../../harness/env/processes.js';
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
 * Starts the pair on two loopback addresses; `replicaSettings` are appended to the replica's
 * configuration (for example `max_standby_streaming_delay = 0`).
 */
export async function startScratchPair(
  hosts: { primary: string; replica: string },
  replicaSettings: readonly string[] = [],
): Promise<ScratchPair> {
  const primary = await startScratchPrimary(hosts.primary);
  const dir = await mkdtemp(join(tmpdir(), 'pgbackup-scratch-replica-'));
  // The server's account (postgres, when tests run as root) must reach the data directory.
  await chmod(dir, 0o711);
  const dataDir = join(dir, 'data');
  let replica: RestoredServer | undefined;
  try {
    await runTool(
      join(requireEnv('PGBACKUP_PG_BIN'), 'pg_basebackup'),
      ['--pgdata', dataDir, '--write-recovery-conf', '--wal-method=stream', '--checkpoint=fast'],
      { env: libpqEnvironment(primary) },
    );
    await appendFile(join(dataDir, 'postgresql.auto.conf'), `${replicaSettings.join('\n')}\n`);
    replica = await startRestoredServer(dataDir, hosts.replica);
  } catch (error) {
    await primary.stop();
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  const started = replica;
  let replicaRunning = true;
  const stopReplica = async () => {
    if (!replicaRunning) return;
    replicaRunning = false;
    await started.stop();
  };
  return {
    primary,
    replica: started,
    stopReplica,
    stop: async () => {
      await stopReplica();
      await primary.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
