/**
 * A stored binary backup made inconsistent with the backup_manifest pg_basebackup wrote, as if
 * the damage had happened before the upload: the archive is rewritten with one byte of a
 * catalog file changed, and manifest.json updated to the new archive, so every object still
 * matches manifest.json and only pg_verifybackup can tell.
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { runTool } from '../../harness/env/processes.js';
import { downloadObject } from '../../harness/restore.js';
import { testBucket, testS3Client } from '../../harness/s3.js';
import { readObjectText } from './policy-file.js';

/** The catalog file (pg_database) every backup holds, and whose byte is changed. */
export const DAMAGED_FILE = 'global/1262';

/** Rewrites the uncompressed `base.tar` of the backup at `key`, working in `scratch`. */
export async function damageInsideArchive(key: string, scratch: string): Promise<void> {
  const manifest = JSON.parse(await readObjectText(`${key}manifest.json`));
  const archive = join(scratch, 'base.tar');
  const data = join(scratch, 'data');
  await downloadObject(testS3Client(), { bucket: testBucket(), key: `${key}base.tar` }, archive);
  await mkdir(data);
  await runTool('tar', ['-xf', archive, '-C', data]);
  const file = await readFile(join(data, DAMAGED_FILE));
  file[100] = (file[100] ?? 0) ^ 0xff;
  await writeFile(join(data, DAMAGED_FILE), file);
  await runTool('tar', ['-cf', archive, '-C', data, '.']);
  const bytes = await readFile(archive);
  manifest.objects[0] = {
    name: 'base.tar',
    sizeBytes: bytes.length,
    sha256: createHash('sha256').update(bytes).digest('hex'),
  };
  for (const [name, body] of [
    ['base.tar', bytes],
    ['manifest.json', JSON.stringify(manifest, null, 2)],
  ] as const) {
    await testS3Client().send(
      new PutObjectCommand({ Bucket: testBucket(), Key: `${key}${name}`, Body: body }),
    );
  }
}
