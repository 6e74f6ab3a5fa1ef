/**
 * A logical backup read back as a person would: every object the manifest lists downloaded
 * and checked against its SHA-256, then restored into a server with stock psql (the globals)
 * and pg_restore (each database, created by the dump itself).
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { BackupManifest } from '../../../src/storage/index.js';
import { downloadObject } from '../../harness/restore.js';
import { testBucket, testS3Client } from '../../harness/s3.js';
import { readObjectText } from '../binary/policy-file.js';
import { runPgTool } from './source-databases.js';

/** A backup's manifest, read from the bucket. */
export async function readManifest(key: string): Promise<BackupManifest> {
  return JSON.parse(await readObjectText(`${key}manifest.json`)) as BackupManifest;
}

/** Downloads every object of a backup into `dir`; throws when a SHA-256 or size differs. */
export async function downloadBackup(key: string, dir: string): Promise<BackupManifest> {
  const manifest = await readManifest(key);
  for (const object of manifest.objects) {
    const path = join(dir, object.name);
    await downloadObject(
      testS3Client(),
      { bucket: testBucket(), key: `${key}${object.name}` },
      path,
    );
    const content = await readFile(path);
    const sha256 = createHash('sha256').update(content).digest('hex');
    if (sha256 !== object.sha256 || content.length !== object.sizeBytes) {
      throw new Error(
        `${object.name}: ${content.length} bytes with SHA-256 ${sha256}, the manifest says ${object.sizeBytes} bytes with ${object.sha256}`,
      );
    }
  }
  return manifest;
}

/**
 * Restores a downloaded backup into a server: `psql -f globals.sql` (roles that exist already,
 * such as the superuser, fail and are skipped, as on any fresh server), then
 * `pg_restore --create` of every dump, stopping at the first error.
 */
export async function restoreBackup(
  manifest: BackupManifest,
  dir: string,
  server: { host: string; port: number },
): Promise<void> {
  await runPgTool('psql', ['-X', '-q', '-d', 'postgres', '-f', join(dir, 'globals.sql')], server);
  for (const object of manifest.objects.filter((entry) => entry.name.endsWith('.dump'))) {
    await runPgTool(
      'pg_restore',
      ['--create', '--exit-on-error', '--dbname=postgres', join(dir, object.name)],
      server,
    );
  }
}
