/**
 * A primary that refuses the receiver: it keeps retrying (a person fixes the role while it
 * runs) and its status names the privilege to grant, never the password.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withClient } from '../../harness/postgres.js';
import { type ScratchServer, startScratchPrimary } from '../../harness/scratch-postgres.js';
import { hostOf } from '../logical/scratch-pair.js';
import { startReceiver, waitFor, walTestHost, writeWalPolicy } from './receiver-harness.js';

const ROLE = { name: 'no_replication', password: 'refused-role-secret' } as const;

describe('the WAL receiver refused by the primary', () => {
  let server: ScratchServer;

  beforeAll(async () => {
    server = await startScratchPrimary(walTestHost(65));
    await withClient(server.client('postgres'), (client) =>
      client.query(`CREATE ROLE ${ROLE.name} LOGIN PASSWORD '${ROLE.password}'`),
    );
  }, 120_000);

  afterAll(async () => {
    await server?.stop();
  }, 60_000);

  it('a replication login without REPLICATION: NoPrimary, naming the privilege, until stopped', async () => {
    const policy = await writeWalPolicy({ hosts: [hostOf(server)], name: 'refused-stream' });
    const receiver = startReceiver(policy, {
      PGBACKUP_REPLICATION_USER: ROLE.name,
      PGBACKUP_REPLICATION_PASSWORD: ROLE.password,
    });
    const status = await waitFor(
      'NoPrimary naming REPLICATION',
      async () => {
        const seen = await receiver.status();
        return seen?.state === 'NoPrimary' && /REPLICATION/.test(seen.message ?? '')
          ? seen
          : undefined;
      },
      60_000,
      receiver,
    );
    expect(status.message).toMatch(/may not stream WAL: give it REPLICATION/);
    const outcome = await receiver.stop();
    expect(outcome.code).toBe(0);
    expect(`${outcome.stderr}${JSON.stringify(status)}`).not.toContain(ROLE.password);
  }, 120_000);

  it('an SQL login that may not make the slot: the status says to grant REPLICATION', async () => {
    const policy = await writeWalPolicy({ hosts: [hostOf(server)], name: 'refused-slot' });
    const receiver = startReceiver(policy, {
      PGUSER: ROLE.name,
      PGPASSWORD: ROLE.password,
      PGBACKUP_REPLICATION_USER: undefined,
      PGBACKUP_REPLICATION_PASSWORD: undefined,
    });
    const status = await waitFor(
      'a message about the slot',
      async () => {
        const seen = await receiver.status();
        return /cannot create the WAL receiver's replication slot/.test(seen?.message ?? '')
          ? seen
          : undefined;
      },
      60_000,
      receiver,
    );
    expect(status.message).toMatch(/give the role of spec\.target\.credentials REPLICATION/);
    expect(status.state).not.toBe('Streaming');
    const outcome = await receiver.stop();
    expect(outcome.code).toBe(0);
    expect(outcome.stderr).not.toContain(ROLE.password);
  }, 120_000);
});
