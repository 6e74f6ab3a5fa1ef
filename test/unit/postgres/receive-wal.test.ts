import { describe, expect, it } from 'vitest';
import {
  classifyReceiveWalExit,
  receiveWalArguments,
  receiveWalConninfo,
} from '../../../src/postgres/receive-wal.js';

const input = {
  binary: '/usr/lib/postgresql/15/bin/pg_receivewal',
  endpoint: { host: '10.0.0.7', port: 5432 },
  credentials: { username: "o'brien", password: 's3cret-pass', source: 'a test' },
  slot: 'pgbackup_wal_0123456789abcdef',
  directory: '/spool/wal',
  applicationName: `pgbackup-wal-shop-${'x'.repeat(80)}`,
};

describe('pg_receivewal arguments', () => {
  it('stream synchronously through the slot, never loop, and carry no password', () => {
    const args = receiveWalArguments(input);
    expect(args).toContain('--synchronous');
    expect(args).toContain('--no-loop');
    expect(args).toContain('--no-password');
    expect(args).toContain('--slot=pgbackup_wal_0123456789abcdef');
    expect(args).toContain('--directory=/spool/wal');
    expect(args).toContain('--status-interval=1');
    expect(args.some((arg) => arg.startsWith('--compress'))).toBe(false);
    expect(args.join(' ')).not.toContain('s3cret-pass');
  });

  it("quote libpq conninfo values and bound application_name to PostgreSQL's 63 characters", () => {
    const conninfo = receiveWalConninfo(input);
    expect(conninfo).toContain("user='o\\'brien'");
    const name = /application_name='([^']*)'/.exec(conninfo)?.[1] ?? '';
    expect(name).toHaveLength(63);
    expect(name.startsWith('pgbackup-wal-shop-')).toBe(true);
  });
});

describe("pg_receivewal's exit, read from its stderr", () => {
  it.each([
    [
      'pg_receivewal: error: unexpected termination of replication stream: ERROR:  requested WAL segment 000000010000000000000003 has already been removed',
      'segment-removed',
    ],
    [
      'pg_receivewal: error: could not send replication command "START_REPLICATION": ERROR:  replication slot "pgbackup_wal_x" does not exist',
      'slot-missing',
    ],
    [
      'pg_receivewal: error: could not send replication command "START_REPLICATION": ERROR:  replication slot "pgbackup_wal_x" is active for PID 4242',
      'slot-active',
    ],
    [
      'pg_receivewal: error: connection to server at "10.0.0.7", port 5432 failed: FATAL:  password authentication failed for user "backup"',
      'authentication',
    ],
    [
      'pg_receivewal: error: connection to server at "10.0.0.7", port 5432 failed: FATAL:  must be superuser or replication role to start walsender',
      'not-permitted',
    ],
    [
      'pg_receivewal: error: connection to server at "10.0.0.7", port 5432 failed: FATAL:  number of requested standby connections exceeds max_wal_senders (currently 0)',
      'no-sender',
    ],
    [
      'pg_receivewal: error: could not receive data from WAL stream: server closed the connection unexpectedly',
      'connection',
    ],
    [
      'pg_receivewal: error: could not write 8192 bytes to WAL file "000000010000000000000007.partial": No space left on device',
      'spool-full',
    ],
    ['pg_receivewal: error: something nobody expected', 'other'],
  ])('%s → %s', (stderr, reason) => {
    expect(classifyReceiveWalExit(stderr)).toBe(reason);
  });
});
