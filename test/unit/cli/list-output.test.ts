import { describe, expect, it } from 'vitest';
import {
  formatInstant,
  formatSize,
  listedBackupOf,
  renderListJson,
  renderListText,
  shortVersion,
} from '../../../src/cli/list-output.js';
import { sortNewestFirst } from '../../../src/runner/backup-choice.js';
import { fixtureText } from '../../harness/fixtures.js';
import { catalogFixture } from './list-catalog.js';

describe('pgbackup list text output', () => {
  it('prints aligned columns newest first, with the databases of logical backups and the key last', () => {
    const entries = sortNewestFirst(catalogFixture());

    expect(renderListText(entries)).toBe(fixtureText('list/catalog.txt'));
  });

  it('leaves out the DATABASES column when only binary backups are listed', () => {
    const binary = catalogFixture().filter(
      (entry) => entry.manifest.type === 'binary' && entry.manifest.line !== '',
    );

    const [header, row] = renderListText(binary).split('\n');

    expect(header).toBe(
      'TYPE     LINE     SLOT    STARTED                COMMITTED              SIZE      POSTGRESQL   KEY',
    );
    expect(row).toBe(
      'binary   daily    mon     2026-11-23 02:00:04Z   2026-11-23 02:03:11Z   1.2 GiB   16.4         backups/shop/orders/binary/daily/1/20261123T020004Z-a1b2c3/',
    );
  });

  it('adds RECIPIENTS when an encrypted backup is listed: its fingerprints, - for a plain one', () => {
    const binary = catalogFixture().filter(
      (entry) => entry.manifest.type === 'binary' && entry.manifest.line !== '',
    );
    const [first, ...rest] = binary;
    if (first === undefined) throw new Error('no binary backup in the fixture');
    const encryption = {
      format: 'age' as const,
      recipients: ['cf7e568231315068', '91aa07c45e2d3b60'],
    };
    const encrypted = { ...first, manifest: { ...first.manifest, encryption } };

    const lines = renderListText([encrypted, ...rest]).split('\n');

    expect(lines[0]).toMatch(/ POSTGRESQL +RECIPIENTS +KEY$/);
    expect(lines[1]).toMatch(/ 16\.4 +cf7e568231315068,91aa07c45e2d3b60 +backups\/shop\//);
    expect(lines.slice(2, -1).every((line) => / 16\.4 +- +backups\/shop\//.test(line))).toBe(true);
    expect(lines.length).toBeGreaterThan(3);
  });
});

describe('pgbackup list cells', () => {
  it('writes sizes in binary units, one decimal below 10', () => {
    expect(formatSize(0)).toBe('0 B');
    expect(formatSize(1023)).toBe('1023 B');
    expect(formatSize(1024)).toBe('1.0 KiB');
    expect(formatSize(12 * 1024)).toBe('12 KiB');
    expect(formatSize(340 * 1024 ** 2 + 5)).toBe('340 MiB');
    expect(formatSize(1.2 * 1024 ** 3)).toBe('1.2 GiB');
    expect(formatSize(9.97 * 1024 ** 3)).toBe('10 GiB');
    expect(formatSize(1024 ** 2 - 300)).toBe('1.0 MiB');
    expect(formatSize(3 * 1024 ** 4)).toBe('3.0 TiB');
  });

  it('writes instants in UTC to the second', () => {
    expect(formatInstant('2026-11-25T08:27:55.431Z')).toBe('2026-11-25 08:27:55Z');
    expect(formatInstant('2026-11-25T09:27:55+01:00')).toBe('2026-11-25 08:27:55Z');
    expect(formatInstant('not a time')).toBe('not a time');
  });

  it('shortens the server version from its number', () => {
    const server = { host: 'h', version: '16.4 (Debian 16.4-1.pgdg120+2)', versionNumber: 160004 };

    expect(shortVersion(server)).toBe('16.4');
    expect(shortVersion({ ...server, version: '9.6.24', versionNumber: 90624 })).toBe('9.6.24');
    expect(shortVersion({ ...server, versionNumber: 0 })).toBe('16.4');
  });
});

describe('pgbackup list -o json', () => {
  it('prints each backup with its manifest fields in a stable order', () => {
    const [daily] = catalogFixture();
    if (daily === undefined) throw new Error('empty fixture');

    const listed = listedBackupOf(daily);

    expect(Object.keys(listed)).toEqual([
      'key',
      'type',
      'line',
      'slot',
      'slotLabel',
      'startedAt',
      'completedAt',
      'committedAt',
      'sizeBytes',
      'server',
      'compression',
      'objects',
    ]);
    expect(listed).toEqual({
      key: daily.key,
      type: 'binary',
      line: 'daily',
      slot: 1,
      slotLabel: 'mon',
      startedAt: daily.manifest.startedAt,
      completedAt: daily.manifest.completedAt,
      committedAt: daily.manifest.committedAt,
      sizeBytes: 1288490189,
      server: {
        version: '16.4 (Debian 16.4-1.pgdg120+2)',
        versionNumber: 160004,
        host: '10.0.0.5:5432',
      },
      compression: 'zstd',
      objects: daily.manifest.objects,
    });
  });

  it('names the databases of a logical backup and leaves on-demand backups without a slot', () => {
    const entries = sortNewestFirst(catalogFixture());

    const listed = JSON.parse(renderListJson(entries)) as Record<string, unknown>[];

    expect(listed.map((backup) => [backup.line, backup.slot, backup.slotLabel])).toEqual([
      ['on-demand', null, 'on-demand'],
      ['daily', 1, 'mon'],
      ['weekly', 0, 'sun-1'],
      ['weekly', 3, 'sun-4'],
    ]);
    expect(listed[2]?.databases).toEqual(['orders', 'café', 'sales eu']);
    expect(listed[2]?.sizeBytes).toBe(4096 + 356515840 + 12288 + 2048);
    expect(listed[0]).not.toHaveProperty('databases');
  });

  it('names the recipients of an encrypted backup, and says nothing of encryption for a plain one', () => {
    const [daily] = catalogFixture();
    if (daily === undefined) throw new Error('empty fixture');
    const encryption = { format: 'age' as const, recipients: ['cf7e568231315068'] };

    const listed = listedBackupOf({ ...daily, manifest: { ...daily.manifest, encryption } });

    expect(listed.encryption).toEqual(encryption);
    expect(Object.keys(listed).slice(-2)).toEqual(['encryption', 'objects']);
    expect(listedBackupOf(daily)).not.toHaveProperty('encryption');
  });

  it('prints an empty array when nothing is committed', () => {
    expect(renderListJson([])).toBe('[]\n');
  });
});
