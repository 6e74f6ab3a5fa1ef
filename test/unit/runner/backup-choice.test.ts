import { describe, expect, it } from 'vitest';
import {
  chooseBackup,
  lineOf,
  newestBackupOf,
  sortNewestFirst,
} from '../../../src/runner/backup-choice.js';
import { RunError } from '../../../src/runner/errors.js';
import type { CatalogEntry } from '../../../src/storage/index.js';
import { catalogFixture } from '../cli/list-catalog.js';

const WHERE = 'binary backups of BackupPolicy shop/orders in s3://b';

/** The fixture's binary backups: on-demand (newest), daily, weekly (oldest). */
function binaryBackups(): CatalogEntry[] {
  return catalogFixture().filter((entry) => entry.manifest.type === 'binary');
}

function keysOf(entries: readonly CatalogEntry[]): string[] {
  return entries.map((entry) => entry.key);
}

/** A copy of `entry` under another key, committed at `committedAt`. */
function recommitted(entry: CatalogEntry, key: string, committedAt: string): CatalogEntry {
  return { key, manifest: { ...entry.manifest, committedAt } };
}

const ON_DEMAND = 'backups/shop/orders/binary/on-demand/20261125T082755Z-0f9e8d/';
const DAILY = 'backups/shop/orders/binary/daily/1/20261123T020004Z-a1b2c3/';
const WEEKLY = 'backups/shop/orders/binary/weekly/3/20261122T020002Z-778899/';

describe('sortNewestFirst', () => {
  it('orders by commit time, newest first', () => {
    expect(keysOf(sortNewestFirst(binaryBackups()))).toEqual([ON_DEMAND, DAILY, WEEKLY]);
    expect(keysOf(sortNewestFirst(binaryBackups().reverse()))).toEqual([ON_DEMAND, DAILY, WEEKLY]);
  });

  it('breaks a tie in commit time by key, the later key (start time) first', () => {
    const [daily] = binaryBackups().filter((entry) => entry.key === DAILY);
    if (daily === undefined) throw new Error('no daily in the fixture');
    const at = '2026-11-23T02:03:11.002Z';
    const earlier = recommitted(daily, 'p/binary/daily/0/20261123T010000Z-aaaaaa/', at);
    const later = recommitted(daily, 'p/binary/daily/0/20261123T020000Z-bbbbbb/', at);

    expect(keysOf(sortNewestFirst([earlier, later]))).toEqual([later.key, earlier.key]);
    expect(keysOf(sortNewestFirst([later, earlier]))).toEqual([later.key, earlier.key]);
  });
});

describe('lineOf', () => {
  it('names a backup of no line on-demand', () => {
    expect(binaryBackups().map(lineOf)).toEqual(['daily', 'on-demand', 'weekly']);
  });
});

describe('chooseBackup', () => {
  it('takes the newest backup of any line, on-demand included, when nothing is named', () => {
    expect(chooseBackup(binaryBackups(), {}, WHERE).key).toBe(ON_DEMAND);
    expect(newestBackupOf(binaryBackups())?.key).toBe(ON_DEMAND);
    expect(newestBackupOf([])).toBeUndefined();
  });

  it('takes a backup by its key, with or without the trailing slash', () => {
    expect(chooseBackup(binaryBackups(), { key: WEEKLY }, WHERE).key).toBe(WEEKLY);
    expect(chooseBackup(binaryBackups(), { key: WEEKLY.slice(0, -1) }, WHERE).key).toBe(WEEKLY);
  });

  it('names an unknown key, how many backups there are, and where keys come from', () => {
    const unknown = 'backups/shop/orders/binary/daily/2/20261124T020000Z-dead00';

    expect(() => chooseBackup(binaryBackups(), { key: unknown }, WHERE)).toThrow(
      new RunError(
        `no committed backup has the key ${unknown}/ among the 3 ${WHERE}: copy a key from \`pgbackup list\` (a backup whose manifest.json is missing was never committed and cannot be restored)`,
      ),
    );
  });

  it('takes the newest backup of a line', () => {
    const entries = binaryBackups();
    const [daily] = entries.filter((entry) => entry.key === DAILY);
    if (daily === undefined) throw new Error('no daily in the fixture');
    const newerDaily = recommitted(
      daily,
      'backups/shop/orders/binary/daily/2/20261124T020003Z-c0ffee/',
      '2026-11-24T02:03:00.000Z',
    );

    expect(chooseBackup([...entries, newerDaily], { line: 'daily' }, WHERE).key).toBe(
      newerDaily.key,
    );
    expect(chooseBackup(entries, { line: 'weekly' }, WHERE).key).toBe(WEEKLY);
  });

  it('takes the newest on-demand backup for the line on-demand', () => {
    expect(chooseBackup(binaryBackups(), { line: 'on-demand' }, WHERE).key).toBe(ON_DEMAND);
  });

  it('says which lines there are when the one named has no backup', () => {
    expect(() => chooseBackup(binaryBackups(), { line: 'monthly' }, WHERE)).toThrow(
      `there is no committed backup of line monthly among the ${WHERE}; there are backups of daily, on-demand, weekly`,
    );
  });

  it('says to take a backup first when nothing is committed', () => {
    const message = `there are no committed ${WHERE}: take a backup first (\`pgbackup run\`, or an on-demand Backup)`;

    expect(() => chooseBackup([], {}, WHERE)).toThrow(message);
    expect(() => chooseBackup([], { line: 'daily' }, WHERE)).toThrow(message);
  });
});
