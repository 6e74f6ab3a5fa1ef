/**
 * The local copy's commit is durable in order (issue 14, finding 7): a node that crashes at
 * any instant never leaves a manifest beside truncated data. A crash cannot be provoked on a
 * shared machine, so the order is observed instead: the store's write path runs under
 * strace, and every data file's fsync, and its directory's, must return before the manifest
 * is renamed into place, itself fsynced first and followed by its directory's fsync.
 */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MANIFEST_NAME } from '../../../src/storage/index.js';
import { repoRoot } from '../../harness/env/layout.js';
import { type TracedCall, traceSyscalls } from '../../harness/strace.js';
import { BACKUP_KEY, OBJECT_NAMES } from './commit-local-copy.js';

const SYSCALLS = ['openat', 'fsync', 'fdatasync', 'rename', 'renameat', 'renameat2'];

describe('the local store commit order', () => {
  let root: string;
  let calls: TracedCall[];
  let backupDir: string;

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'pgbackup-commit-order-'));
    backupDir = join(root, BACKUP_KEY).replace(/\/$/, '');
    calls = await traceSyscalls(
      process.execPath,
      ['--import', 'tsx', join(repoRoot, 'test/integration/storage/commit-local-copy.ts'), root],
      SYSCALLS,
      { cwd: repoRoot },
    );
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  const syncsOf = (path: string) =>
    calls.filter(
      ({ syscall, paths, result }) =>
        (syscall === 'fsync' || syscall === 'fdatasync') && paths[0] === path && result === '0',
    );
  const renameTo = (path: string) => {
    const found = calls.find(
      ({ syscall, paths, result }) =>
        syscall.startsWith('rename') && paths.at(-1) === path && result === '0',
    );
    if (found === undefined) throw new Error(`the trace has no rename to ${path}`);
    return found;
  };

  it('wrote the backup (the trace is of a real commit)', async () => {
    expect((await readdir(backupDir)).sort()).toEqual([...OBJECT_NAMES, MANIFEST_NAME].sort());
  });

  it('fsyncs each data file before it is renamed into place, and its directory after', () => {
    for (const name of OBJECT_NAMES) {
      const path = join(backupDir, name);
      const renamed = renameTo(path);
      const dataSync = syncsOf(`${path}.partial`).find((sync) => sync.endedAt < renamed.beganAt);
      expect(dataSync, `fsync of ${name}'s data before its rename`).toBeDefined();
      const dirSync = syncsOf(backupDir).find((sync) => sync.beganAt > renamed.endedAt);
      expect(dirSync, `fsync of the backup's directory after ${name}'s rename`).toBeDefined();
    }
  });

  it('makes every data fsync and directory fsync return before the manifest is renamed', () => {
    const manifest = join(backupDir, MANIFEST_NAME);
    const committed = renameTo(manifest);
    for (const name of OBJECT_NAMES) {
      const path = join(backupDir, name);
      const dataSyncs = syncsOf(`${path}.partial`);
      expect(dataSyncs.length, `fsyncs of ${name}`).toBeGreaterThan(0);
      for (const sync of dataSyncs) expect(sync.endedAt).toBeLessThan(committed.beganAt);
      const dirSyncAfterData = syncsOf(backupDir).find(
        (sync) => sync.beganAt > renameTo(path).endedAt && sync.endedAt < committed.beganAt,
      );
      expect(dirSyncAfterData, `directory fsync between ${name} and the manifest`).toBeDefined();
    }
    const manifestSync = syncsOf(`${manifest}.partial`).find(
      (sync) => sync.endedAt < committed.beganAt,
    );
    expect(manifestSync, "fsync of the manifest's temporary file before its rename").toBeDefined();
  });

  it("fsyncs the manifest's directory, and each one above it up to the root, after the rename", () => {
    const committed = renameTo(join(backupDir, MANIFEST_NAME));
    const segments = BACKUP_KEY.split('/').filter((segment) => segment !== '');
    const dirs = segments.map((_, count) => join(root, ...segments.slice(0, count + 1)));
    for (const dir of [root, ...dirs]) {
      const sync = syncsOf(dir).find((call) => call.beganAt > committed.endedAt);
      expect(sync, `fsync of ${dir} after the manifest's rename`).toBeDefined();
    }
  });
});
