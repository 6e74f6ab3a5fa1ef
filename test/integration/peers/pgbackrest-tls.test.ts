/**
 * The peers bench/wal (and issue 17) compare us with: a MinIO over TLS with a CA of its own,
 * and pgBackRest archiving a scratch primary's WAL into it with asynchronous archive-push.
 * A switched segment lands in the repository's archive; a pgBackRest that does not trust the
 * CA is refused by TLS.
 */
import { chmod, chown, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postgresRunAs } from '../../harness/env/postgres.js';
import { ensureToolModule } from '../../harness/env/tools.js';
import {
  configurePgbackrest,
  listArchivedSegments,
  type PgbackrestOptions,
  type PgbackrestRepo,
} from '../../harness/peers/pgbackrest.js';
import { startTlsMinio, type TlsMinio } from '../../harness/peers/tls-minio.js';
import { type ScratchServer, startScratchPrimary } from '../../harness/scratch-postgres.js';
import { uniqueSuffix } from '../../harness/variables.js';

const subnet = process.env.PGBACKUP_ENV_SUBNET ?? '127.0.0';
const BUCKET = 'peers';
const credentials = {
  region: 'us-east-1',
  accessKeyId: `peers${uniqueSuffix()}`,
  secretAccessKey: `secret-${uniqueSuffix()}${uniqueSuffix()}`,
};

describe('pgBackRest archiving into a MinIO over TLS', () => {
  let dir: string;
  let minio: TlsMinio;
  let s3: S3Client;
  let server: ScratchServer;
  let options: PgbackrestOptions;
  let repo: PgbackrestRepo;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pgbackup-peers-'));
    // The server's account must reach its socket and pgBackRest's directories in here.
    await chmod(dir, 0o755);
    await mkdir(join(dir, 'minio'));
    minio = await startTlsMinio({
      dir: join(dir, 'minio'),
      binary: join(await ensureToolModule('minio'), 'minio'),
      host: `${subnet}.72`,
      port: 9000,
      bucket: BUCKET,
      ...credentials,
    });
    s3 = minio.client();
    const runAs = postgresRunAs();
    const socketDir = join(dir, 'socket');
    await mkdir(socketDir);
    if (runAs !== undefined) await chown(socketDir, runAs.uid, runAs.gid);
    server = await startScratchPrimary(`${subnet}.73`, [
      'archive_mode=on',
      `unix_socket_directories=${socketDir}`,
    ]);
    options = {
      dir: join(dir, 'pgbackrest'),
      stanza: 'peers',
      server: {
        dataDir: join(server.dir, 'data'),
        port: server.port,
        socketDir,
        user: 'postgres',
        runAs,
      },
      s3: {
        host: `${subnet}.72`,
        port: 9000,
        bucket: BUCKET,
        caFile: minio.caFile,
        ...credentials,
      },
      repoPath: '/pgbackrest',
      compressType: 'zst',
      processMax: 2,
    };
    repo = await configurePgbackrest(options);
  }, 180_000);

  afterAll(async () => {
    s3?.destroy();
    await server?.stop();
    await minio?.stop();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  it('stores a switched segment in the stanza archive through archive_command', async () => {
    const client = server.client('postgres');
    await client.connect();
    try {
      await client.query(
        `ALTER SYSTEM SET archive_command = ${client.escapeLiteral(repo.archiveCommand)}`,
      );
      await client.query('SELECT pg_reload_conf()');
      await client.query('CREATE TABLE switched (at timestamptz)');
      await client.query('INSERT INTO switched VALUES (now())');
      const { rows } = await client.query<{ file: string }>(
        'SELECT pg_walfile_name(pg_current_wal_lsn()) AS file',
      );
      await client.query('SELECT pg_switch_wal()');
      const segment = rows[0]?.file ?? '';
      let archived: string[] = [];
      for (let attempt = 0; attempt < 120 && !archived.includes(segment); attempt += 1) {
        await sleep(500);
        archived = await listArchivedSegments(s3, BUCKET, repo);
      }
      expect(archived).toContain(segment);
      const stats = await client.query<{ last: string | null; failed: string }>(
        'SELECT last_archived_wal AS last, failed_count::text AS failed FROM pg_stat_archiver',
      );
      expect(stats.rows[0]?.failed).toBe('0');
    } finally {
      await client.end();
    }
  }, 120_000);

  it('is refused by TLS when pgBackRest does not trust the CA that signed MinIO', async () => {
    const untrusting = {
      ...options,
      dir: join(dir, 'pgbackrest-untrusting'),
      stanza: 'untrusting',
      // Refused at once; no need to wait out the default 60 s of retries.
      ioTimeoutSeconds: 3,
      s3: { ...options.s3, caFile: '/etc/ssl/certs/ca-certificates.crt' },
    };
    await expect(configurePgbackrest(untrusting)).rejects.toThrow(/certificate/i);
  }, 120_000);
});
