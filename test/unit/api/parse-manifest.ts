import { type ParseResult, parseBackup, parseBackupPolicy } from '../../../src/api/index.js';
import type { ManifestFixture } from '../../fixtures/policies/load-fixtures.js';

/** Parses a fixture with the parser of its kind. */
export function parseManifest(fixture: ManifestFixture): ParseResult<unknown> {
  return fixture.kind === 'Backup' ? parseBackup(fixture.doc) : parseBackupPolicy(fixture.doc);
}
