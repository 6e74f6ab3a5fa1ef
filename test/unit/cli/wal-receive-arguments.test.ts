import { describe, expect, it } from 'vitest';
import { UsageError } from '../../../src/cli/command.js';
import { parseWalReceiveArguments } from '../../../src/cli/wal-receive-arguments.js';

describe('pgbackup wal-receive arguments', () => {
  it('serves metrics on 0.0.0.0:9187 in a cluster, with the status every 10 s', () => {
    expect(parseWalReceiveArguments(['--policy', 'shop/orders', '--spool', '/spool'])).toEqual({
      source: { kind: 'cluster', namespace: 'shop', name: 'orders' },
      spool: '/spool',
      metricsAddress: '0.0.0.0:9187',
      statusFile: undefined,
      statusIntervalMs: 10_000,
      pgRoot: undefined,
    });
  });

  it('serves no metrics outside a cluster unless asked, and takes a status file', () => {
    const args = parseWalReceiveArguments([
      '-f',
      'policy.yaml',
      '--spool',
      '/spool',
      '--status-file',
      '/tmp/status.json',
      '--status-interval',
      '0.5',
    ]);
    expect(args).toMatchObject({
      source: { kind: 'file', file: 'policy.yaml' },
      metricsAddress: undefined,
      statusFile: '/tmp/status.json',
      statusIntervalMs: 500,
    });
  });

  it.each([
    [['-f', 'policy.yaml'], /--spool DIR is required/],
    [['--spool', '/spool'], /exactly one of -f POLICY.yaml or --policy/],
    [['-f', 'p.yaml', '--policy', 'a/b', '--spool', '/s'], /exactly one of/],
    [['--policy', 'orders', '--spool', '/s'], /must be NAMESPACE\/NAME/],
    [['-f', 'p.yaml', '--spool', '/s', '--metrics-address', '9187'], /must be HOST:PORT/],
    [['-f', 'p.yaml', '--spool', '/s', '--status-interval', '0'], /above 0/],
  ])('refuses %j, saying what is wrong and ending with the usage', (argv, message) => {
    const parse = () => parseWalReceiveArguments(argv);
    expect(parse).toThrow(UsageError);
    expect(parse).toThrow(message);
    expect(parse).toThrow(/usage: pgbackup wal-receive/);
  });

  it('answers --help', () => {
    expect(parseWalReceiveArguments(['--help'])).toBe('help');
  });
});
