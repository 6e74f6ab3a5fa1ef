import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { dumpObjectNameOf } from '../../../src/runner/dump-databases.js';
import { RunError } from '../../../src/runner/errors.js';
import {
  chooseDatabase,
  DatabaseChoiceError,
  dumpedDatabasesOf,
} from '../../../src/runner/logical-databases.js';
import { type BackupManifest, backupManifestSchema } from '../../../src/storage/index.js';
import { fixtureText } from '../../harness/fixtures.js';

const KEY = 'backups/shop/orders/logical/weekly/0/20261122T020011Z-d4e5f6/';

/** A manifest of test/fixtures/logical/restore-manifests.json, checked against the schema. */
function manifestFixture(which: 'several' | 'one'): BackupManifest {
  const manifests = JSON.parse(fixtureText('logical/restore-manifests.json')) as Record<
    string,
    unknown
  >;
  return backupManifestSchema.parse(manifests[which]);
}

describe('the databases of a logical backup', () => {
  it('are its dumps with their names decoded, without globals.sql, in the manifest order', () => {
    expect(dumpedDatabasesOf(manifestFixture('several'))).toEqual([
      { name: 'orders', object: 'orders.dump', sizeBytes: 356515840, sha256: 'c'.repeat(64) },
      { name: 'café', object: 'caf%C3%A9.dump', sizeBytes: 12288, sha256: 'd'.repeat(64) },
      {
        name: "we're = x",
        object: 'we%27re%20%3D%20x.dump',
        sizeBytes: 2048,
        sha256: 'e'.repeat(64),
      },
    ]);
  });

  it('of an encrypted backup are its .dump.age objects, without globals.sql.age', () => {
    const base = manifestFixture('one');
    const manifest = {
      ...base,
      encryption: { format: 'age' as const, recipients: ['0123456789abcdef'] },
      objects: [
        { name: 'globals.sql.age', sizeBytes: 300, sha256: 'a'.repeat(64) },
        { name: 'caf%C3%A9.dump.age', sizeBytes: 4096, sha256: 'b'.repeat(64) },
      ],
    };

    expect(dumpedDatabasesOf(manifest)).toEqual([
      { name: 'café', object: 'caf%C3%A9.dump.age', sizeBytes: 4096, sha256: 'b'.repeat(64) },
    ]);
  });

  it('name every database the runner dumped, whatever its name', () => {
    const base = manifestFixture('one');
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.string({ unit: 'grapheme', minLength: 1, maxLength: 20 }), {
          minLength: 1,
          maxLength: 5,
        }),
        (names) => {
          const objects = names.map((name) => ({
            name: dumpObjectNameOf(name),
            sizeBytes: 1,
            sha256: 'f'.repeat(64),
          }));
          const manifest = { ...base, objects: [base.objects[0], ...objects] } as BackupManifest;
          expect(dumpedDatabasesOf(manifest).map((database) => database.name)).toEqual(names);
        },
      ),
    );
  });
});

describe('the database a restore takes', () => {
  const several = dumpedDatabasesOf(manifestFixture('several'));

  it('is the one --database names, by its decoded name', () => {
    expect(chooseDatabase(several, 'café', KEY).object).toBe('caf%C3%A9.dump');
    expect(chooseDatabase(several, "we're = x", KEY).object).toBe('we%27re%20%3D%20x.dump');
  });

  it('is the only one when --database is not given', () => {
    const one = dumpedDatabasesOf(manifestFixture('one'));
    expect(chooseDatabase(one, undefined, KEY).name).toBe('orders');
  });

  it('must be named when the backup holds several: the error lists them', () => {
    expect(() => chooseDatabase(several, undefined, KEY)).toThrow(DatabaseChoiceError);
    expect(() => chooseDatabase(several, undefined, KEY)).toThrow(
      `the backup ${KEY} holds 3 databases: "orders", "café", "we're = x"; name the one to restore with --database NAME`,
    );
  });

  it('must be one of the backup: an unknown name lists the ones there are', () => {
    expect(() => chooseDatabase(several, 'Orders', KEY)).toThrow(
      `the backup ${KEY} holds no database "Orders"; it holds "orders", "café", "we're = x": give one of them to --database (names are case-sensitive)`,
    );
    // The percent-encoded object name is not a database name.
    expect(() => chooseDatabase(several, 'caf%C3%A9', KEY)).toThrow(DatabaseChoiceError);
  });

  it('cannot be chosen from a backup that holds only the globals', () => {
    expect(() => chooseDatabase([], undefined, KEY)).toThrow(RunError);
    expect(() => chooseDatabase([], 'orders', KEY)).toThrow(
      `the backup ${KEY} holds no database dump (only globals.sql)`,
    );
  });
});
