import { beforeAll, describe, expect, it } from 'vitest';
import { runEnvironment, runPgbackup } from '../../harness/pgbackup-run.js';
import { requireEnv } from '../../harness/variables.js';
import {
  listCommitted,
  listKeys,
  runArgs,
  type TestPolicy,
  writeTestPolicy,
} from './policy-file.js';

// A week after the committed backup: the same daily slot, whose occupant must survive.
const SAME_SLOT_A_WEEK_LATER = '2026-03-09T01:30:00Z';

describe('a binary run that cannot proceed', () => {
  let policy: TestPolicy;
  let occupantKeys: string[];

  beforeAll(async () => {
    policy = await writeTestPolicy('daily.yaml');
    const first = await runPgbackup(runArgs(policy, 'daily', '2026-03-02T01:30:00Z'));
    expect(first.code, first.stderr).toBe(0);
    occupantKeys = await listKeys(policy.binaryPrefix);
  });

  async function expectFailure(
    run: Promise<{ code: number | null; stderr: string }>,
    message: RegExp,
  ): Promise<void> {
    const outcome = await run;
    expect(outcome.code).toBe(1);
    expect(outcome.stderr).toMatch(message);
    expect(await listKeys(policy.binaryPrefix)).toEqual(occupantKeys);
  }

  it('names the environment variable when the password is wrong, and never prints it', async () => {
    const wrong = 'not-the-password-0b5e';
    await expectFailure(
      runPgbackup(
        runArgs(policy, 'daily', SAME_SLOT_A_WEEK_LATER),
        runEnvironment({ PGPASSWORD: wrong }),
      ),
      /refused user "postgres".*PGPASSWORD/,
    );
    const again = await runPgbackup(
      runArgs(policy, 'daily', SAME_SLOT_A_WEEK_LATER),
      runEnvironment({ PGPASSWORD: wrong }),
    );
    expect(again.stderr + again.stdout).not.toContain(wrong);
  });

  it('names the replication credentials pg_basebackup was refused with', async () => {
    await expectFailure(
      runPgbackup(
        runArgs(policy, 'daily', SAME_SLOT_A_WEEK_LATER),
        runEnvironment({ PGBACKUP_REPLICATION_PASSWORD: 'wrong-replication-password' }),
      ),
      /pg_basebackup could not log in.*PGBACKUP_REPLICATION_PASSWORD/s,
    );
  });

  it('lists what each host said when none is the primary', async () => {
    const replicaOnly = await writeTestPolicy('daily.yaml', (document) => {
      document.spec.target.hosts = [requireEnv('PGBACKUP_REPLICA'), '127.0.0.1:1'];
    });
    const outcome = await runPgbackup(runArgs(replicaOnly, 'daily', SAME_SLOT_A_WEEK_LATER));
    expect(outcome.code).toBe(1);
    expect(outcome.stderr).toContain('no primary found among spec.target.hosts');
    expect(outcome.stderr).toContain(`${requireEnv('PGBACKUP_REPLICA')}: in recovery (a replica)`);
    expect(outcome.stderr).toMatch(/127\.0\.0\.1:1: cannot connect/);
  });

  it('says the bucket does not exist', async () => {
    const missing = await writeTestPolicy('daily.yaml', (document) => {
      document.spec.storage.s3.bucket = 'pgbackup-no-such-bucket';
    });
    const outcome = await runPgbackup(runArgs(missing, 'daily', SAME_SLOT_A_WEEK_LATER));
    expect(outcome.code).toBe(1);
    expect(outcome.stderr).toContain('bucket "pgbackup-no-such-bucket" does not exist');
  });

  it('says access is denied and where the S3 credentials come from', async () => {
    await expectFailure(
      runPgbackup(
        runArgs(policy, 'daily', SAME_SLOT_A_WEEK_LATER),
        runEnvironment({ AWS_SECRET_ACCESS_KEY: 'wrong-secret-key-for-this-test' }),
      ),
      /access denied to bucket "[^"]+".*AWS SDK's default chain/,
    );
  });

  it('says which pg_basebackup it needs when the image carries none for the server’s version', async () => {
    await expectFailure(
      runPgbackup([
        ...runArgs(policy, 'daily', SAME_SLOT_A_WEEK_LATER),
        '--pg-root',
        '/nonexistent/postgresql',
      ]),
      /no pg_basebackup for PostgreSQL \d+: \/nonexistent\/postgresql\/\d+\/bin\/pg_basebackup/,
    );
    expect(await listCommitted(policy.binaryPrefix)).toHaveLength(1);
  });
});
