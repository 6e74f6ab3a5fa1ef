/**
 * A throwaway PostgreSQL primary of the environment's version, for tests that must change a
 * server in ways the shared primary cannot take (a tablespace would break every other test's
 * backups). initdb'd with SCRAM over TCP like the shared one; removed by `stop()`.
 */
import { chown, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { postgresRunAs } from './env/postgres.js';
import { runTool } from './env/processes.js';
import { type RestoredServer, startRestoredServer } from './restore.js';
import { requireEnv } from './variables.js';

/** A scratch server and its directory, which the server's account owns. */
export interface ScratchServer extends RestoredServer {
  readonly dir: string;
}

/**
 * Initializes and starts a primary on `host`, superuser PGUSER with password PGPASSWORD;
 * `settings` (`name=value`) override the defaults, e.g. `archive_mode=on`;
 * `options.dataChecksums` initializes it with data checksums (initdb --data-checksums).
 */
export async function startScratchPrimary(
  host: string,
  settings: readonly string[] = [],
  options: { readonly dataChecksums?: boolean } = {},
): Promise<ScratchServer> {
  const runAs = postgresRunAs();
  const dir = await mkdtemp(join(tmpdir(), 'pgbackup-scratch-'));
  const dataDir = join(dir, 'data');
  await mkdir(dataDir, { mode: 0o700 });
  const passwordFile = join(dir, 'password');
  await writeFile(passwordFile, `${requireEnv('PGPASSWORD')}\n`, { mode: 0o600 });
  if (runAs !== undefined) {
    for (const path of [dir, dataDir, passwordFile]) await chown(path, runAs.uid, runAs.gid);
  }
  await runTool(
    join(requireEnv('PGBACKUP_PG_BIN'), 'initdb'),
    [
      '-D',
      dataDir,
      '-U',
      requireEnv('PGUSER'),
      `--pwfile=${passwordFile}`,
      '--auth-local=trust',
      '--auth-host=scram-sha-256',
      '--no-sync',
      ...(options.dataChecksums === true ? ['--data-checksums'] : []),
    ],
    { runAs },
  );
  await writeFile(
    join(dataDir, 'pg_hba.conf'),
    'local all all trust\nhost all all 127.0.0.0/8 scram-sha-256\nhost replication all 127.0.0.0/8 scram-sha-256\n',
  );
  const server = await startRestoredServer(dataDir, host, settings);
  return {
    ...server,
    dir,
    stop: async () => {
      await server.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
