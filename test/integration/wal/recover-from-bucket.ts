/**
 * A restore from the bucket as a person would do it after losing the primary: the newest
 * binary backup restored with `pgbackup restore`, then recovered with `restore_command =
 * 'pgbackup wal-fetch %f %p -f POLICY.yaml'` as far as the bucket's WAL reaches (no target,
 * the latest timeline), run as the postgres user with the built operator.
 */
import { chmod, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { postgresRunAs } from '../../harness/env/postgres.js';
import { withClient } from '../../harness/postgres.js';
import { type RestoredServer, startRestoredServer } from '../../harness/restore.js';
import { buildForOtherUsers } from '../../harness/shared-build.js';
import { restoreParentDir, runRestore } from '../restore/restore-run.js';
import { type WalPolicy, waitFor } from './receiver-harness.js';

/** A server recovered from the bucket, and what wal-fetch said on the way. */
export interface RecoveredServer {
  readonly server: RestoredServer;
  /** The directory holding the data directory; remove it after stopping the server. */
  readonly parent: string;
  /** wal-fetch's stderr, every call appended. */
  fetchLog(): Promise<string>;
}

/** Restores the newest binary backup of `policy` and recovers it from the bucket on `host`. */
export async function recoverFromBucket(policy: WalPolicy, host: string): Promise<RecoveredServer> {
  const parent = await restoreParentDir();
  // The restore and restore_command run as postgres: they must read the policy file.
  await chmod(dirname(policy.file), 0o755);
  await chmod(policy.file, 0o644);
  const target = join(parent, 'data');
  const restore = await runRestore(['-f', policy.file, '--target-dir', target], parent);
  if (restore.code !== 0) throw new Error(`pgbackup restore failed:\n${restore.stderr}`);
  const runtime = await buildForOtherUsers();
  await writeFile(join(target, 'recovery.signal'), '');
  const log = join(parent, 'wal-fetch.log');
  await writeFile(log, '');
  if (postgresRunAs() !== undefined) await chmod(log, 0o666);
  const fetch = `${runtime.node} ${runtime.bundle} wal-fetch %f %p -f ${policy.file} 2>>${log}`;
  const server = await startRestoredServer(target, host, [
    `restore_command=${fetch}`,
    'recovery_target_timeline=latest',
  ]);
  await waitFor(
    'the end of recovery',
    () =>
      withClient(server.client('postgres'), async (client) => {
        const result = await client.query<{ recovering: boolean }>(
          'SELECT pg_is_in_recovery() AS recovering',
        );
        return result.rows[0]?.recovering === false;
      }),
    300_000,
  );
  return { server, parent, fetchLog: () => readFile(log, 'utf8') };
}
