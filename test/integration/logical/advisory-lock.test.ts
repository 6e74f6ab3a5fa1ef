import { describe, expect, it } from 'vitest';
import {
  acquireAdvisoryLock,
  advisoryLockKeyOf,
  askServer,
  formatEndpoint,
} from '../../../src/postgres/index.js';
import { serverAddress, superuserClient, withClient } from '../../harness/postgres.js';
import { requireEnv, uniqueSuffix } from '../../harness/variables.js';

// A logical run locks the replica it dumps, a binary run the primary: a refusal names the one
// that refused.
describe.each(['replica', 'primary'] as const)('the policy lock on the %s', (role) => {
  it('names the server that refused it', async () => {
    const endpoint = serverAddress(role);
    const key = advisoryLockKeyOf('advisory-lock', uniqueSuffix(), 'logical');
    const answer = await askServer(
      {
        credentials: {
          username: requireEnv('PGUSER'),
          password: requireEnv('PGPASSWORD'),
          source: 'PGUSER/PGPASSWORD',
        },
      },
      endpoint,
    );
    if (!('session' in answer)) throw new Error(`the ${role} did not answer: ${answer.said}`);
    const { session } = answer;
    try {
      // Another run holds the lock; this session gives up waiting instead of queueing.
      await withClient(superuserClient(role), async (holder) => {
        await holder.query('SELECT pg_advisory_lock($1::bigint)', [key]);
        await session.client.query("SET lock_timeout = '50ms'");

        await expect(acquireAdvisoryLock(session, key)).rejects.toThrow(
          `the ${role} ${formatEndpoint(endpoint)} refused "SELECT pg_advisory_lock($1::bigint)": canceling statement due to lock timeout`,
        );
      });
    } finally {
      await session.client.end();
    }
  });
});
