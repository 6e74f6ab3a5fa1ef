/**
 * What a PostgreSQL client program's process gets in its environment: a stand-in program (a
 * shell script that writes its environment to a file) runs in place of pg_basebackup, pg_dump,
 * pg_dumpall and pg_restore, started exactly as the runner and the restore start them.
 */
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startBaseBackup } from '../../../src/postgres/base-backup.js';
import { startDatabaseDump, startGlobalsDump } from '../../../src/postgres/dump.js';
import { restoreDump } from '../../../src/postgres/restore-dump.js';
import { toolEnvironment } from '../../../src/postgres/tool-process.js';

const scratch = mkdtempSync(join(tmpdir(), 'pgbackup-tool-env-'));
const program = join(scratch, 'fake-pg-tool');
// The program writes its environment beside itself (NUL-separated, as values may hold newlines).
writeFileSync(program, '#!/bin/sh\nenv -0 > "$0.env"\n');
chmodSync(program, 0o755);

/** Variables of the runner's own process that no PostgreSQL program needs. */
const SECRETS = {
  AWS_ACCESS_KEY_ID: 'AKIATESTTESTTEST',
  AWS_SECRET_ACCESS_KEY: 'secret-key-of-the-bucket',
  AWS_SESSION_TOKEN: 'session-token-of-the-bucket',
  PGBACKUP_REPLICATION_PASSWORD: 'replication-password-of-another-role',
  KUBECONFIG: '/home/someone/.kube/config',
  SOME_UNRELATED_SETTING: 'x',
};
/** Variables a program does need: where to find things, the locale, libpq's own settings. */
const NEEDED = {
  PATH: '/usr/local/bin:/usr/bin:/bin',
  HOME: '/home/runner',
  TMPDIR: '/tmp/runner',
  LANG: 'C.UTF-8',
  LC_MESSAGES: 'C',
  TZ: 'UTC',
  PGSSLMODE: 'verify-full',
  PGSSLROOTCERT: '/etc/ssl/ca.pem',
  PGCONNECT_TIMEOUT: '10',
  PGPASSFILE: '/home/runner/.pgpass',
};

const saved = { ...process.env };
beforeEach(() => {
  Object.assign(process.env, SECRETS, NEEDED, { PGPASSWORD: 'the-callers-own-password' });
});
afterEach(() => {
  for (const name of Object.keys(process.env)) {
    if (!(name in saved)) delete process.env[name];
  }
  Object.assign(process.env, saved);
});
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function environmentOfLastRun(): Record<string, string> {
  const text = readFileSync(`${program}.env`, 'utf8');
  return Object.fromEntries(
    text
      .split('\0')
      .filter((entry) => entry !== '')
      .map((entry) => [entry.slice(0, entry.indexOf('=')), entry.slice(entry.indexOf('=') + 1)]),
  );
}

const endpoint = { host: '127.0.0.2', port: 5432 };
const withPassword = { username: 'backup', password: 'password-from-the-secret', source: 'test' };
const withoutPassword = { username: 'backup', source: 'test' };

async function drain(tool: { stdout: NodeJS.ReadableStream; exited: Promise<unknown> }) {
  tool.stdout.resume();
  await tool.exited;
}

function expectOnlyWhatItNeeds(env: Record<string, string>): void {
  for (const name of Object.keys(SECRETS)) expect(env).not.toHaveProperty(name);
  expect(env).toMatchObject(NEEDED);
}

describe("a PostgreSQL program's environment", () => {
  it('pg_basebackup gets the replication password and what it needs, no AWS key or other secret', async () => {
    await drain(
      startBaseBackup({
        binary: program,
        endpoint,
        credentials: withPassword,
        compression: { algorithm: 'none' },
        toolMajor: 15,
        checkpoint: 'fast',
        label: 'test',
      }),
    );
    const env = environmentOfLastRun();
    expectOnlyWhatItNeeds(env);
    expect(env.PGPASSWORD).toBe('password-from-the-secret');
  });

  it('pg_dump and pg_dumpall get the same, never the AWS keys', async () => {
    const connection = {
      binary: program,
      endpoint,
      applicationName: 'pgbackup-logical-test',
      compression: { algorithm: 'gzip' as const },
      toolMajor: 15,
    };
    await drain(startDatabaseDump({ ...connection, credentials: withPassword, database: 'shop' }));
    expectOnlyWhatItNeeds(environmentOfLastRun());
    await drain(
      startGlobalsDump({ ...connection, credentials: withPassword, withoutRolePasswords: true }),
    );
    expectOnlyWhatItNeeds(environmentOfLastRun());
  });

  it('without a password in the credentials, no PGPASSWORD reaches the program (the password file does)', async () => {
    await drain(
      startDatabaseDump({
        binary: program,
        endpoint,
        applicationName: 'pgbackup-logical-test',
        credentials: withoutPassword,
        database: 'shop',
        compression: { algorithm: 'gzip' },
        toolMajor: 15,
      }),
    );
    const env = environmentOfLastRun();
    expect(env).not.toHaveProperty('PGPASSWORD');
    expect(env.PGPASSFILE).toBe('/home/runner/.pgpass');
  });

  it("pg_restore keeps libpq's connection variables (PGHOST, PGPORT, PGUSER), not the AWS keys", async () => {
    Object.assign(process.env, { PGHOST: '/var/run/postgresql', PGPORT: '5433', PGUSER: 'me' });
    await restoreDump({
      binary: program,
      dumpFile: join(scratch, 'shop.dump'),
      database: 'shop_copy',
      jobs: 1,
      noOwner: false,
      credentials: { username: 'me', password: 'restore-password', source: 'test' },
      where: '/var/run/postgresql:5433',
    });
    const env = environmentOfLastRun();
    expectOnlyWhatItNeeds(env);
    expect(env).toMatchObject({
      PGHOST: '/var/run/postgresql',
      PGPORT: '5433',
      PGUSER: 'me',
      PGPASSWORD: 'restore-password',
    });
  });

  it('is an allow-list: a variable it does not name is left out, whatever its name', () => {
    const env = toolEnvironment(
      { PATH: '/bin', AWS_REGION: 'eu-west-1', NODE_OPTIONS: '--inspect', LC_ALL: 'C' },
      undefined,
    );
    expect(env).toEqual({ PATH: '/bin', LC_ALL: 'C' });
  });
});
