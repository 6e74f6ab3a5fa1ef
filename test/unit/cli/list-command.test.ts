import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runMain } from '../../../src/cli/main.js';
import { createLocalStore } from '../../../src/storage/index.js';
import { repoRoot } from '../../harness/env/layout.js';
import { catalogFixture } from './list-catalog.js';

const POLICY = join(repoRoot, 'test', 'fixtures', 'list', 'policy.yaml');

async function list(argv: readonly string[]) {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.setEncoding('utf8').on('data', (chunk: string) => {
    out += chunk;
  });
  stderr.setEncoding('utf8').on('data', (chunk: string) => {
    err += chunk;
  });
  const code = await runMain(['list', ...argv], { stdout, stderr });
  return { code, stdout: out, stderr: err };
}

describe('pgbackup list --local-dir (a runner volume laid out like the bucket)', () => {
  let dir: string;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pgbackup-list-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function commitBinaryFixtures(): Promise<void> {
    const store = createLocalStore(dir);
    for (const entry of catalogFixture()) {
      if (entry.manifest.type !== 'binary') continue;
      // The objects come first; the manifest commits the backup.
      await mkdir(join(dir, entry.key), { recursive: true });
      await store.commit(entry.key, entry.manifest);
    }
    // A run that died before its manifest: data without manifest.json is no backup.
    const dead = join(dir, 'backups/shop/orders/binary/daily/2/20261124T020000Z-dead00');
    await mkdir(dead, { recursive: true });
    await writeFile(join(dead, 'base.tar.zst'), 'partial');
  }

  it('lists the committed binary backups newest first, and not the uncommitted one', async () => {
    await commitBinaryFixtures();

    const run = await list(['-f', POLICY, '--local-dir', dir]);

    expect(run.code, run.stderr).toBe(0);
    const [header, ...rows] = run.stdout.trimEnd().split('\n');
    expect(header?.split(/\s+/)).toEqual([
      'TYPE',
      'LINE',
      'SLOT',
      'STARTED',
      'COMMITTED',
      'SIZE',
      'POSTGRESQL',
      'KEY',
    ]);
    expect(rows.map((row) => row.split(/\s{3,}/))).toEqual([
      [
        'binary',
        'on-demand',
        'on-demand',
        '2026-11-25 08:27:55Z',
        '2026-11-25 08:31:02Z',
        '700 MiB',
        '16.4',
        'backups/shop/orders/binary/on-demand/20261125T082755Z-0f9e8d/',
      ],
      [
        'binary',
        'daily',
        'mon',
        '2026-11-23 02:00:04Z',
        '2026-11-23 02:03:11Z',
        '1.2 GiB',
        '16.4',
        'backups/shop/orders/binary/daily/1/20261123T020004Z-a1b2c3/',
      ],
      [
        'binary',
        'weekly',
        'sun-4',
        '2026-11-22 02:00:02Z',
        '2026-11-22 02:04:00Z',
        '900 B',
        '16.4',
        'backups/shop/orders/binary/weekly/3/20261122T020002Z-778899/',
      ],
    ]);
    expect(run.stdout).not.toContain('dead00');
  });

  it('filters by line, on-demand included', async () => {
    await commitBinaryFixtures();

    const daily = await list(['-f', POLICY, '--local-dir', dir, '--line', 'daily', '-o', 'json']);
    const onDemand = await list([
      '-f',
      POLICY,
      '--local-dir',
      dir,
      '--line',
      'on-demand',
      '-o',
      'json',
    ]);

    expect(JSON.parse(daily.stdout).map((backup: { key: string }) => backup.key)).toEqual([
      'backups/shop/orders/binary/daily/1/20261123T020004Z-a1b2c3/',
    ]);
    expect(JSON.parse(onDemand.stdout).map((backup: { key: string }) => backup.key)).toEqual([
      'backups/shop/orders/binary/on-demand/20261125T082755Z-0f9e8d/',
    ]);
  });

  it('says so when nothing is committed, and exits 0', async () => {
    const text = await list(['-f', POLICY, '--local-dir', dir]);
    const line = await list(['-f', POLICY, '--local-dir', dir, '--line', 'weekly']);
    const json = await list(['-f', POLICY, '--local-dir', dir, '-o', 'json']);

    expect(text).toEqual({
      code: 0,
      stdout: `no committed binary backups of BackupPolicy shop/orders in local volume ${dir} under backups/shop/orders/binary/\n`,
      stderr: '',
    });
    expect(line.stdout).toBe(
      `no committed binary backups of line weekly of BackupPolicy shop/orders in local volume ${dir} under backups/shop/orders/binary/\n`,
    );
    expect(json).toEqual({ code: 0, stdout: '[]\n', stderr: '' });
  });

  it('refuses a local volume that is not there, rather than list nothing', async () => {
    const missing = join(dir, 'not-mounted');

    const run = await list(['-f', POLICY, '--local-dir', missing]);

    expect(run.code).toBe(1);
    expect(run.stderr).toBe(
      `pgbackup list: --local-dir ${missing} is not a directory: give the directory the runner's local volume is mounted at\n`,
    );
  });

  it('exits 2 on a usage error', async () => {
    const run = await list(['-f', POLICY, '-o', 'wide']);

    expect(run.code).toBe(2);
    expect(run.stderr).toContain('-o "wide" is not an output format; use text or json');
  });
});
