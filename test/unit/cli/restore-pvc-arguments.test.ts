import { describe, expect, it } from 'vitest';
import { parseRestoreArguments } from '../../../src/cli/restore-arguments.js';
import { defaultRestoreName } from '../../../src/cli/restore-pvc-arguments.js';

const parse = (...argv: string[]) => parseRestoreArguments(argv);

describe('pgbackup restore --to-pvc', () => {
  it('makes a Restore spec, waiting 6h by default', () => {
    expect(parse('--policy', 'db/orders', '--to-pvc', 'restored', '--pvc-size', '20Gi')).toEqual({
      type: 'to-pvc',
      namespace: 'db',
      policy: 'orders',
      spec: { policy: 'orders', type: 'binary', pvc: { name: 'restored', size: '20Gi' } },
      name: undefined,
      waitSeconds: 6 * 3600,
    });
  });

  it('writes a target time as RFC 3339 in UTC, to the microsecond', () => {
    const args = parse(
      '--policy',
      'db/orders',
      '--to-pvc',
      'restored',
      '--target-time',
      '2026-12-03 15:40:01.25+01',
      '--no-wait',
    );
    expect(args).toMatchObject({
      spec: { targetTime: '2026-12-03T14:40:01.250000Z' },
      waitSeconds: undefined,
    });
  });

  it.each([
    [['-f', 'policy.yaml', '--to-pvc', 'r'], '--to-pvc restores inside a cluster'],
    [['--policy', 'db/o', '--to-pvc', 'r', '--type', 'logical'], 'restores a binary backup'],
    [
      ['--policy', 'db/o', '--to-pvc', 'r', '--target-dir', '/x'],
      '--target-dir does not go with --to-pvc',
    ],
    [
      ['--policy', 'db/o', '--to-pvc', 'r', '--target-time', '2026-12-03T14:40:01Z', '--pause'],
      'finishes recovery in the Job',
    ],
    [
      ['--policy', 'db/o', '--to-pvc', 'r', '--line', 'daily', '--target-latest'],
      'give at most one of --line, --target-latest',
    ],
    [
      ['--policy', 'db/o', '--to-pvc', 'r', '--storage-class', 'fast'],
      '--storage-class goes with --pvc-size',
    ],
    [['--policy', 'db/o', '--to-pvc', 'Bad_Name'], '--to-pvc "Bad_Name" is not a claim name'],
    [
      ['--policy', 'db/o', '--pvc-size', '1Gi', '--target-dir', '/x'],
      '--pvc-size goes with --to-pvc CLAIM',
    ],
  ])('refuses %j', (argv, message) => {
    expect(() => parse(...argv)).toThrow(message);
  });

  it('names a Restore after its policy and the UTC time', () => {
    expect(defaultRestoreName('orders', Date.parse('2026-12-03T17:40:00Z'))).toBe(
      'orders-restore-20261203t174000z',
    );
  });
});
