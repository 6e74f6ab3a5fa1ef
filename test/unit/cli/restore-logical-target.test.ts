import { userInfo } from 'node:os';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../../src/cli/command.js';
import { restoreTargetFrom } from '../../../src/cli/restore-logical-command.js';

describe('the server a logical restore goes to, from libpq’s environment', () => {
  it('is PGHOST and PGPORT as PGUSER with PGPASSWORD, whose source is named and never the password', () => {
    const target = restoreTargetFrom({
      PGHOST: '10.0.0.5',
      PGPORT: '5433',
      PGUSER: 'restorer',
      PGPASSWORD: 'sekret-pw',
    });
    expect(target.endpoint).toEqual({ host: '10.0.0.5', port: 5433 });
    expect(target.credentials).toEqual({
      username: 'restorer',
      password: 'sekret-pw',
      source: 'environment variables PGUSER and PGPASSWORD',
    });
  });

  it('takes port 5432, the user name and the password file when those are unset, as libpq does', () => {
    const target = restoreTargetFrom({ PGHOST: '/var/run/postgresql' });
    expect(target.endpoint).toEqual({ host: '/var/run/postgresql', port: 5432 });
    expect(target.credentials.username).toBe(userInfo().username);
    expect(target.credentials.password).toBeUndefined();
    expect(target.credentials.source).toContain(
      'the libpq password file (PGPASSFILE or ~/.pgpass)',
    );
  });

  it('must name one server: PGHOST is required, a list of hosts and a service file are refused', () => {
    expect(() => restoreTargetFrom({})).toThrow(UsageError);
    expect(() => restoreTargetFrom({})).toThrow('set PGHOST (and PGPORT when not 5432)');
    expect(() => restoreTargetFrom({ PGHOST: 'a,b' })).toThrow(
      'PGHOST "a,b" lists several hosts: name the one server to restore into',
    );
    expect(() => restoreTargetFrom({ PGHOST: 'a', PGSERVICE: 'prod' })).toThrow('PGSERVICE is set');
  });

  it('refuses a PGPORT that is not a port', () => {
    expect(() => restoreTargetFrom({ PGHOST: 'a', PGPORT: '54x' })).toThrow(
      'PGPORT "54x" is not a port: give one number from 1 to 65535',
    );
    expect(() => restoreTargetFrom({ PGHOST: 'a', PGPORT: '70000' })).toThrow(UsageError);
  });
});
