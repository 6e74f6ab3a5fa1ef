import { describe, expect, it } from 'vitest';
import { parseVerifyArguments } from '../../../src/cli/verify-arguments.js';

describe('pgbackup verify arguments', () => {
  it('takes an in-cluster policy, the work directory, the tools and --scheduled', () => {
    expect(
      parseVerifyArguments([
        '--policy',
        'shop/orders',
        '--work-dir',
        '/var/lib/pgbackup-verify',
        '--pg-root',
        '/opt/pg',
        '--scheduled',
      ]),
    ).toEqual({
      source: { kind: 'cluster', namespace: 'shop', name: 'orders' },
      workDir: '/var/lib/pgbackup-verify',
      pgRoot: '/opt/pg',
      scheduled: true,
    });
  });

  it('takes a policy file, working in the temporary directory by default', () => {
    const args = parseVerifyArguments(['-f', 'policy.yaml']);

    expect(args).toMatchObject({ source: { kind: 'file', file: 'policy.yaml' }, scheduled: false });
  });

  it('wants exactly one of -f and --policy', () => {
    expect(() => parseVerifyArguments([])).toThrow(
      'give exactly one of -f POLICY.yaml or --policy NAMESPACE/NAME',
    );
    expect(() => parseVerifyArguments(['--policy', 'orders'])).toThrow(
      '--policy "orders" must be NAMESPACE/NAME',
    );
  });

  it('keeps --scheduled for the CronJob, which names a policy in the cluster', () => {
    expect(() => parseVerifyArguments(['-f', 'policy.yaml', '--scheduled'])).toThrow(
      '--scheduled goes with --policy NAMESPACE/NAME',
    );
  });

  it('takes --type binary, logical or point-in-time, and leaves it unset by default', () => {
    expect(parseVerifyArguments(['-f', 'policy.yaml', '--type', 'logical'])).toMatchObject({
      type: 'logical',
    });
    expect(parseVerifyArguments(['-f', 'policy.yaml', '--type', 'point-in-time'])).toMatchObject({
      type: 'point-in-time',
    });
    expect(parseVerifyArguments(['-f', 'policy.yaml'])).toMatchObject({ type: undefined });
    expect(() => parseVerifyArguments(['-f', 'policy.yaml', '--type', 'pitr'])).toThrow(
      '--type is binary, logical or point-in-time, not "pitr"',
    );
  });

  it('answers --help with the usage', () => {
    expect(parseVerifyArguments(['--help'])).toBe('help');
  });
});
