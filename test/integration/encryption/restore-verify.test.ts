/**
 * `pgbackup restore` and `pgbackup verify` of encrypted backups with `--identity FILE`: the
 * binary backup restores into a data directory whose tables equal the source's (rows and
 * ordered md5), the logical one into a new database equal to the source, both drills pass,
 * a drill without the identity fails naming the recipient, and `pgbackup list` reads the
 * catalog without any identity.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runEnvironment, startPgbackup } from '../../harness/pgbackup-run.js';
import { serverAddress, superuserClient, withClient } from '../../harness/postgres.js';
import { fingerprintTables, startRestoredServer } from '../../harness/restore.js';
import { requireEnv, uniqueSuffix } from '../../harness/variables.js';
import { restoreParentDir, runRestore } from '../restore/restore-run.js';
import { runVerify } from '../verify/verify-run.js';
import { type EncryptedBackups, takeEncryptedBackups } from './encrypted-backups.js';

/** A loopback address on the environment's subnet that its own servers do not use. */
function hostOnSubnet(last: number): string {
  const [a, b, c] = (requireEnv('PGBACKUP_PRIMARY').split(':')[0] ?? '').split('.');
  return `${a}.${b}.${c}.${last}`;
}

let backups: EncryptedBackups;

/** Nothing a command printed or logged holds a private key. */
function expectNoKeyIn(run: { stdout: string; stderr: string }): void {
  expect(`${run.stdout}\n${run.stderr}`).not.toContain('AGE-SECRET-KEY-');
}
const into = `encrypted_restored_${uniqueSuffix()}`;
const cleanups: (() => Promise<void>)[] = [];

beforeAll(async () => {
  backups = await takeEncryptedBackups();
});

afterAll(async () => {
  for (const cleanup of cleanups) await cleanup();
  await withClient(superuserClient('primary'), (client) =>
    client.query(`DROP DATABASE IF EXISTS ${client.escapeIdentifier(into)} WITH (FORCE)`),
  );
  await backups?.dispose();
});

describe('pgbackup restore with --identity', () => {
  it('restores the encrypted binary backup: every table equal to the source at the backup', async () => {
    const parent = await restoreParentDir();
    cleanups.push(() => rm(parent, { recursive: true, force: true }));
    const target = join(parent, 'data');

    const run = await runRestore(
      ['-f', backups.binary.policy.file, '--target-dir', target, '--identity', backups.owner.path],
      parent,
    );

    expect(run.code, run.stderr).toBe(0);
    expectNoKeyIn(run);
    expect(run.stdout).toContain(backups.binary.key);
    expect(run.leftInParent).toEqual(['data']);
    const server = await startRestoredServer(target, hostOnSubnet(60));
    try {
      const restored = await withClient(server.client(backups.database), fingerprintTables);
      expect(restored['public.orders']?.rows).toBe(5000);
      expect(restored).toEqual(backups.tables);
    } finally {
      await server.stop();
    }
  });

  it('restores the encrypted logical backup into a new database equal to the source', async () => {
    const workDir = await mkdtemp(join(tmpdir(), 'pgbackup-encrypted-restore-'));
    cleanups.push(() => rm(workDir, { recursive: true, force: true }));
    const primary = serverAddress('primary');
    const env = runEnvironment({ PGHOST: primary.host, PGPORT: String(primary.port) });

    const run = await startPgbackup(
      [
        'restore',
        '-f',
        backups.logical.policy.file,
        '--type',
        'logical',
        '--into',
        into,
        '--work-dir',
        workDir,
        '--identity',
        backups.owner.path,
      ],
      env,
    ).outcome;

    expect(run.code, run.stderr).toBe(0);
    expectNoKeyIn(run);
    expect(run.stdout).toContain(`into the new database "${into}"`);
    expect(run.stdout).toContain(
      `, encrypted for ${backups.owner.fingerprint} and decrypted with --identity ${backups.owner.path}\n`,
    );
    const restored = await withClient(superuserClient('primary', into), fingerprintTables);
    expect(restored['public.orders']?.rows).toBe(5000);
    expect(restored).toEqual(backups.tables);
  });
});

describe('pgbackup verify with --identity', () => {
  it('passes the binary drill of the encrypted backup', async () => {
    const run = await runVerify([
      '-f',
      backups.binary.policy.file,
      '--identity',
      backups.owner.path,
    ]);

    expect(run.code, `${run.stdout}\n${run.stderr}`).toBe(0);
    expectNoKeyIn(run);
    expect(run.stdout).toContain(`Passed: ${backups.binary.key}`);
    expect(run.stdout).toContain('pg_verifybackup passed');
    expect(run.leftInWorkDir).toEqual([]);
  });

  it('passes the logical drill of the encrypted backup, with the rows of the dump', async () => {
    const run = await runVerify([
      '--type',
      'logical',
      '-f',
      backups.logical.policy.file,
      '--identity',
      backups.owner.path,
    ]);

    expect(run.code, `${run.stdout}\n${run.stderr}`).toBe(0);
    expectNoKeyIn(run);
    expect(run.stdout).toContain(`Passed: ${backups.logical.key}`);
    expect(run.stdout).toContain(`database "${backups.database}": `);
    expect(run.stdout).toContain('5000 rows in 1 table as in the dump');
    expect(run.leftInWorkDir).toEqual([]);
  });

  it('fails a drill without the identity, naming the recipient, before downloading anything', async () => {
    const run = await runVerify(['--type', 'logical', '-f', backups.logical.policy.file]);

    expect(run.code).toBe(1);
    expect(run.stdout).toContain(`Failed: ${backups.logical.key}`);
    expect(run.stdout).toContain(
      `the backup ${backups.logical.key} is encrypted for recipient ${backups.owner.fingerprint} and no identity was given: pass its age identity file with --identity FILE`,
    );
    expect(run.stderr).not.toContain('downloading and checking the dump');
    expect(run.leftInWorkDir).toEqual([]);
  });
});

describe('pgbackup list of encrypted backups', () => {
  it('lists them without any identity, naming the recipients (JSON and text)', async () => {
    const run = await startPgbackup(
      ['list', '-f', backups.logical.policy.file, '-o', 'json'],
      runEnvironment(),
    ).outcome;

    expect(run.code, run.stderr).toBe(0);
    expectNoKeyIn(run);
    const listed = JSON.parse(run.stdout) as {
      key: string;
      databases?: string[];
      encryption?: unknown;
    }[];
    expect(listed.map((backup) => backup.key)).toContain(backups.logical.key);
    const logical = listed.find((backup) => backup.key === backups.logical.key);
    expect(logical?.databases).toEqual([backups.database]);
    expect(logical?.encryption).toEqual({
      format: 'age',
      recipients: [backups.owner.fingerprint],
    });

    const text = await startPgbackup(['list', '-f', backups.binary.policy.file], runEnvironment())
      .outcome;
    expect(text.code, text.stderr).toBe(0);
    const [header, row] = text.stdout.split('\n');
    expect(header).toMatch(/ RECIPIENTS +KEY$/);
    expect(row).toContain(` ${backups.owner.fingerprint} `);
    expect(row?.endsWith(backups.binary.key)).toBe(true);
  });
});
