import { describe, expect, it } from 'vitest';
import { describeBinaryRestore } from '../../../src/cli/restore-binary-report.js';
import type { BinaryRestoreOutcome } from '../../../src/runner/restore-binary.js';
import { type BackupManifest, parseManifest } from '../../../src/storage/index.js';
import { fixtureText } from '../../harness/fixtures.js';

const KEY = 'p/shop/orders/binary/daily/1/20260302T020000Z-0a1b2c3d/';

function manifest(): BackupManifest {
  const parsed = parseManifest(fixtureText('restore/binary-manifest.json'));
  if (parsed === undefined) throw new Error('the fixture is no manifest');
  return parsed;
}

function outcome(overrides: Partial<BinaryRestoreOutcome> = {}): BinaryRestoreOutcome {
  return {
    entry: { key: KEY, manifest: manifest() },
    targetDir: '/srv/pg/restored',
    created: true,
    previousMode: undefined,
    configuration: { missingFiles: [], autoSettings: [] },
    storeDescription: 's3://backups (eu-central-1)',
    ...overrides,
  };
}

describe('what pgbackup restore prints after a binary restore', () => {
  it('says what was restored, the checks it passed, and how to start the server', () => {
    expect(describeBinaryRestore(outcome(), { binDir: '/usr/lib/postgresql/15/bin' })).toBe(
      fixtureText('restore/binary-restored.txt'),
    );
  });

  it("names the configuration files the backup lacks and Debian's place for them", () => {
    const text = describeBinaryRestore(
      outcome({
        configuration: { missingFiles: ['postgresql.conf', 'pg_hba.conf'], autoSettings: [] },
      }),
      { binDir: '/usr/lib/postgresql/15/bin' },
    );

    expect(text).toContain('The backup holds no postgresql.conf and pg_hba.conf');
    expect(text).toContain('(Debian: /etc/postgresql/15/<cluster>/)');
    expect(text).toContain("Copy the source's into /srv/pg/restored");
  });

  it('names the settings of postgresql.auto.conf to review', () => {
    const text = describeBinaryRestore(
      outcome({
        configuration: { missingFiles: [], autoSettings: ['archive_command', 'primary_conninfo'] },
      }),
      { binDir: '/usr/lib/postgresql/15/bin' },
    );

    expect(text).toContain(
      'postgresql.auto.conf (ALTER SYSTEM on the source) sets archive_command, primary_conninfo',
    );
  });

  it('says when an empty directory given got mode 0700', () => {
    const text = describeBinaryRestore(outcome({ created: false, previousMode: 0o755 }), {
      binDir: undefined,
    });

    expect(text).toContain(
      'into        /srv/pg/restored (the empty directory given; its mode was 0755, now 0700, as PostgreSQL requires)',
    );
  });

  it("says to install the backup's major when its server is not on this host", () => {
    const text = describeBinaryRestore(outcome(), { binDir: undefined });

    expect(text).toContain('       pg_ctl -D /srv/pg/restored -l /srv/pg/restored.log start\n');
    expect(text).toContain("PostgreSQL 15's server is not installed here");
  });
});
