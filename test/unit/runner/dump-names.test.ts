import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { databaseDumpArguments, dumpConninfo } from '../../../src/postgres/index.js';
import { dumpObjectNameOf } from '../../../src/runner/dump-databases.js';

const connection = {
  binary: '/usr/lib/postgresql/15/bin/pg_dump',
  endpoint: { host: '10.0.0.6', port: 5432 },
  credentials: { username: 'backup', password: 'not-on-the-command-line', source: 'test' },
  applicationName: 'pgbackup-logical-0a1b2c3d',
};

describe('the object name of a database dump', () => {
  it('keeps plain names and percent-encodes the rest as UTF-8', () => {
    expect(dumpObjectNameOf('orders_2026-v1.0')).toBe('orders_2026-v1.0.dump');
    expect(dumpObjectNameOf('café')).toBe('caf%C3%A9.dump');
    expect(dumpObjectNameOf("it's (new)*!~")).toBe('it%27s%20%28new%29%2A%21%7E.dump');
    expect(dumpObjectNameOf('a/b')).toBe('a%2Fb.dump');
  });

  it('is one key segment of safe characters that decodes back to the name, for any name', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', minLength: 1, maxLength: 30 }), (name) => {
        const object = dumpObjectNameOf(name);
        expect(object).toMatch(/^[A-Za-z0-9_.%-]+\.dump$/);
        expect(decodeURIComponent(object.slice(0, -'.dump'.length))).toBe(name);
      }),
    );
  });
});

describe("pg_dump's connection", () => {
  it('quotes every value, so a name with quotes, spaces or = stays a name', () => {
    expect(dumpConninfo(connection, "we're = x\\y")).toBe(
      "host='10.0.0.6' port='5432' user='backup' application_name='pgbackup-logical-0a1b2c3d' dbname='we\\'re = x\\\\y'",
    );
  });

  it('never carries the password', () => {
    const args = databaseDumpArguments({
      ...connection,
      database: 'shop',
      compression: { algorithm: 'gzip' },
      toolMajor: 15,
    }).join(' ');
    expect(args).toContain('--format=custom');
    expect(args).not.toContain('not-on-the-command-line');
  });
});
