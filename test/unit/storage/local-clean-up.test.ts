/**
 * Clean-up of the local volume (DESIGN.md §3): it removes only what a dead run left, never a
 * file a live run is still writing. A live run's `.partial` file is recent (it is being
 * written); a dead run's was last touched before the cutoff the caller derives from the run
 * deadline.
 */
import { mkdir, mkdtemp, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLocalStore, MANIFEST_NAME } from '../../../src/storage/index.js';

const HOUR_MS = 60 * 60 * 1000;
const PREFIX = 'db/orders/binary/';

async function fileAt(root: string, key: string, modifiedMs: number): Promise<void> {
  const path = join(root, key);
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, 'data');
  await utimes(path, modifiedMs / 1000, modifiedMs / 1000);
}

async function filesUnder(root: string): Promise<string[]> {
  const entries = await readdir(root, { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name).slice(root.length + 1))
    .sort();
}

describe('the local store clean-up', () => {
  let root: string;
  const nowMs = Date.now();
  const cutoffMs = nowMs - 24 * HOUR_MS;

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'pgbackup-local-clean-up-'));
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it("leaves a live run's .partial file (written after the cutoff) in place", async () => {
    const live = `${PREFIX}daily/3/20261203T010000Z-live/base.tar.gz.partial`;
    await fileAt(root, live, nowMs - 60_000);

    const report = await createLocalStore(root).cleanUp(PREFIX, cutoffMs);

    expect(report.deletedObjects).toEqual([]);
    expect(await filesUnder(root)).toEqual([live]);
  });

  it("removes a dead run's .partial file and manifest-less data last written before the cutoff", async () => {
    const deadPartial = `${PREFIX}daily/2/20261201T010000Z-dead/base.tar.gz.partial`;
    const deadData = `${PREFIX}daily/2/20261201T010000Z-dead/pg_wal.tar.gz`;
    const deadManifest = `${PREFIX}daily/2/20261201T010000Z-dead/${MANIFEST_NAME}.partial`;
    for (const key of [deadPartial, deadData, deadManifest]) {
      await fileAt(root, key, cutoffMs - HOUR_MS);
    }

    const report = await createLocalStore(root).cleanUp(PREFIX, cutoffMs);

    expect([...report.deletedObjects].sort()).toEqual(
      [deadData, deadManifest, deadPartial].map((key) => join(root, key)).sort(),
    );
    expect(await filesUnder(root)).toEqual([]);
  });

  it('never touches a committed backup, however old', async () => {
    const data = `${PREFIX}weekly/1/20250101T010000Z-kept/base.tar.gz`;
    const manifest = `${PREFIX}weekly/1/20250101T010000Z-kept/${MANIFEST_NAME}`;
    await fileAt(root, data, cutoffMs - 400 * 24 * HOUR_MS);
    await fileAt(root, manifest, cutoffMs - 400 * 24 * HOUR_MS);

    const report = await createLocalStore(root).cleanUp(PREFIX, cutoffMs);

    expect(report.deletedObjects).toEqual([]);
    expect(await filesUnder(root)).toEqual([data, manifest].sort());
  });
});
