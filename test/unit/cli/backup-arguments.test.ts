import { describe, expect, it } from 'vitest';
import { defaultBackupName, parseBackupArguments } from '../../../src/cli/backup-arguments.js';
import { UsageError } from '../../../src/cli/command.js';

/** The first line of the UsageError `argv` raises (the rest is the usage text). */
function errorOf(argv: readonly string[]): string {
  try {
    parseBackupArguments(argv);
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError);
    const message = (error as Error).message;
    expect(message).toContain('usage: pgbackup backup --policy NAMESPACE/NAME');
    return message.split('\n')[0] ?? '';
  }
  throw new Error(`${argv.join(' ')} was accepted`);
}

describe('pgbackup backup arguments', () => {
  it('takes a binary backup with a default name and does not wait by default', () => {
    expect(parseBackupArguments(['--policy', 'shop/orders'])).toEqual({
      kind: 'cluster',
      namespace: 'shop',
      policy: 'orders',
      type: 'binary',
      name: undefined,
      waitSeconds: undefined,
    });
  });

  it('takes a type, a name, --wait and its timeout (1h unless given)', () => {
    expect(
      parseBackupArguments([
        '--policy',
        'shop/orders',
        '--type',
        'logical',
        '--name',
        'before-upgrade',
        '--wait',
        '--timeout',
        '1h30m',
      ]),
    ).toEqual({
      kind: 'cluster',
      namespace: 'shop',
      policy: 'orders',
      type: 'logical',
      name: 'before-upgrade',
      waitSeconds: 5400,
    });
    expect(parseBackupArguments(['--policy', 'shop/orders', '--wait'])).toMatchObject({
      waitSeconds: 3600,
    });
  });

  it('takes a policy file outside a cluster, with a type and a pg root', () => {
    expect(parseBackupArguments(['-f', 'orders.yaml'])).toEqual({
      kind: 'file',
      file: 'orders.yaml',
      type: 'binary',
      pgRoot: undefined,
    });
    expect(
      parseBackupArguments(['-f', 'orders.yaml', '--type', 'logical', '--pg-root', '/opt/pg']),
    ).toEqual({ kind: 'file', file: 'orders.yaml', type: 'logical', pgRoot: '/opt/pg' });
  });

  it('refuses what goes only with a cluster, or only with a file, and both sources at once', () => {
    expect(errorOf(['-f', 'orders.yaml', '--wait'])).toBe(
      '--wait goes with --policy (a Backup in a cluster); with -f the backup is taken here and the command ends when it is committed',
    );
    expect(errorOf(['-f', 'orders.yaml', '--name', 'x', '--wait', '--timeout', '1m'])).toBe(
      '--name, --wait, --timeout go with --policy (a Backup in a cluster); with -f the backup is taken here and the command ends when it is committed',
    );
    expect(errorOf(['--policy', 'shop/orders', '--pg-root', '/opt/pg'])).toBe(
      '--pg-root goes with -f: in a cluster the runner image carries the tools',
    );
    expect(errorOf(['--policy', 'shop/orders', '-f', 'orders.yaml'])).toBe(
      'give exactly one of -f POLICY.yaml or --policy NAMESPACE/NAME',
    );
  });

  it('asks for help', () => {
    expect(parseBackupArguments(['--help'])).toBe('help');
    expect(parseBackupArguments(['-h', '--policy', 'x'])).toBe('help');
  });

  it('refuses wrong arguments, naming the argument and the fix', () => {
    expect(errorOf([])).toBe(
      'give --policy NAMESPACE/NAME (a BackupPolicy in a cluster) or -f POLICY.yaml (outside a cluster): the policy to back up',
    );
    expect(errorOf(['--policy', 'orders'])).toBe(
      '--policy "orders" must be NAMESPACE/NAME, e.g. databases/orders',
    );
    expect(errorOf(['--policy', 'shop/orders', '--type', 'wal'])).toBe(
      '--type "wal" is not supported; use binary or logical',
    );
    expect(errorOf(['--policy', 'shop/orders', '--name', 'Before_Upgrade'])).toBe(
      '--name "Before_Upgrade" is not a Backup name; use a lowercase DNS-1123 name of at most 253 characters such as "before-upgrade" (a-z, 0-9, "-", ".")',
    );
    expect(errorOf(['--policy', 'shop/orders', '--timeout', '10m'])).toBe(
      '--timeout goes with --wait: add --wait or drop it',
    );
    expect(errorOf(['--policy', 'shop/orders', '--wait', '--timeout', '10 minutes'])).toBe(
      '--timeout "10 minutes" is not a duration; write it like 90s, 30m or 1h30m',
    );
    expect(errorOf(['--policy', 'shop/orders', '--wait', '--timeout', '0s'])).toBe(
      '--timeout "0s" is not a duration; write it like 90s, 30m or 1h30m',
    );
    expect(errorOf(['--policy', 'shop/orders', 'now'])).toContain("Unexpected argument 'now'");
  });
});

describe('the default name of an on-demand Backup', () => {
  const at = Date.parse('2026-12-02T06:15:00.456Z');

  it('is <policy>-<type>-<UTC time> in lower case', () => {
    expect(defaultBackupName('orders', 'binary', at)).toBe('orders-binary-20261202t061500z');
    expect(defaultBackupName('orders', 'logical', at)).toBe('orders-logical-20261202t061500z');
  });

  it('is cut with a hash to 63 characters for a long policy name, still a DNS name', () => {
    const long = 'a'.repeat(60);
    const name = defaultBackupName(long, 'binary', at);
    expect(name).toHaveLength(63);
    expect(name).toMatch(/^a+-[0-9a-z]{7}$/);
    expect(defaultBackupName(long, 'logical', at)).not.toBe(name);
  });
});
