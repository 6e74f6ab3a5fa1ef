import { chown, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postgresRunAs } from '../../harness/env/postgres.js';
import { runEnvironment, runPgbackup } from '../../harness/pgbackup-run.js';
import { withClient } from '../../harness/postgres.js';
import { type ScratchServer, startScratchPrimary } from '../../harness/scratch-postgres.js';
import { listKeys, runArgs, writeTestPolicy } from './policy-file.js';

describe('a binary run against a server with more than one tablespace', () => {
  let server: ScratchServer;
  beforeAll(async () => {
    server = await startScratchPrimary('127.0.0.22');
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('fails clearly, naming the tablespaces, before anything is written', async () => {
    const location = join(server.dir, 'fast-disk');
    await mkdir(location);
    const runAs = postgresRunAs();
    if (runAs !== undefined) await chown(location, runAs.uid, runAs.gid);
    await withClient(server.client('postgres'), (client) =>
      client.query(`CREATE TABLESPACE fast_disk LOCATION '${location}'`),
    );
    const policy = await writeTestPolicy('daily.yaml', (document) => {
      document.spec.target.hosts = [`${server.host}:${server.port}`];
    });

    const run = await runPgbackup(
      runArgs(policy, 'daily', '2026-03-02T01:30:00Z'),
      // The scratch server has no replication role: the superuser takes the backup.
      runEnvironment({ PGBACKUP_REPLICATION_USER: undefined }),
    );

    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`has tablespaces besides pg_default: fast_disk (${location})`);
    expect(await listKeys(policy.binaryPrefix)).toEqual([]);
  });
});
