/** The catalog fixture of the `pgbackup list` tests: four backups of BackupPolicy shop/orders. */

import { backupManifestSchema, type CatalogEntry } from '../../../src/storage/index.js';
import { fixtureText } from '../../harness/fixtures.js';

/** test/fixtures/list/catalog.json, its manifests checked against the schema, in file order. */
export function catalogFixture(): CatalogEntry[] {
  const entries = JSON.parse(fixtureText('list/catalog.json')) as {
    key: string;
    manifest: unknown;
  }[];
  return entries.map(({ key, manifest }) => ({
    key,
    manifest: backupManifestSchema.parse(manifest),
  }));
}
