/**
 * A program the commit-order test runs under strace: it writes a backup of two objects to a
 * local store rooted at argv[2] and commits it, as a daily binary run's local copy does.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createLocalStore, parseManifest } from '../../../src/storage/index.js';
import { repoRoot } from '../../harness/env/layout.js';

/** The backup's key and object names, which the test looks for in the trace. */
export const BACKUP_KEY = 'db/orders/binary/daily/3/20261203T010000Z-0a1b2c3d/';
export const OBJECT_NAMES = ['base.tar.gz', 'pg_wal.tar.gz'];

async function main(root: string): Promise<void> {
  const manifest = parseManifest(
    readFileSync(join(repoRoot, 'test/fixtures/storage/local-manifest.json'), 'utf8'),
  );
  if (manifest === undefined)
    throw new Error('test/fixtures/storage/local-manifest.json is no manifest');
  const store = createLocalStore(root);
  for (const name of OBJECT_NAMES) {
    const writer = store.openObject(`${BACKUP_KEY}${name}`, { partSizeBytes: 5 * 1024 * 1024 });
    writer.writable.end(Buffer.alloc(256 * 1024, name));
    await writer.stored;
  }
  await store.commit(BACKUP_KEY, manifest);
}

// Run as a program (the test imports only the names above).
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const root = process.argv[2];
  if (root === undefined) throw new Error('usage: commit-local-copy.ts ROOT');
  await main(root);
}
