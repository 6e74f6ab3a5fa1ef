import { describe, expect, it } from 'vitest';
import { restoreDumpArguments } from '../../../src/postgres/restore-dump.js';

const dump = { dumpFile: '/work/pgbackup-restore-x/caf%C3%A9.dump', database: 'café_copy' };

describe("pg_restore's arguments", () => {
  it('restore in one transaction with one job, stopping at the first error', () => {
    expect(restoreDumpArguments({ ...dump, jobs: 1, noOwner: false })).toEqual([
      '--no-password',
      '--exit-on-error',
      '--single-transaction',
      "--dbname=dbname='café_copy'",
      '/work/pgbackup-restore-x/caf%C3%A9.dump',
    ]);
  });

  it('run parallel jobs without a single transaction, which pg_restore cannot share', () => {
    const args = restoreDumpArguments({ ...dump, jobs: 4, noOwner: false });
    expect(args).toContain('--jobs=4');
    expect(args).not.toContain('--single-transaction');
  });

  it('skip owners and grants with --no-owner', () => {
    const args = restoreDumpArguments({ ...dump, jobs: 1, noOwner: true });
    expect(args).toEqual(expect.arrayContaining(['--no-owner', '--no-acl']));
  });

  it('name only the database, quoted so that = and quotes stay part of the name', () => {
    const args = restoreDumpArguments({
      ...dump,
      database: "we're = x\\y",
      jobs: 1,
      noOwner: false,
    });
    const dbname = args.filter((arg) => arg.startsWith('--dbname='));
    expect(dbname).toEqual(["--dbname=dbname='we\\'re = x\\\\y'"]);
    // Host, port, role and password come from libpq's environment.
    expect(args.join(' ')).not.toMatch(/host=|port=|user=|password=/);
  });
});
