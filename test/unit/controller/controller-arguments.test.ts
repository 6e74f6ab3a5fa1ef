import { describe, expect, it } from 'vitest';
import { UsageError } from '../../../src/cli/command.js';
import { parseControllerArguments } from '../../../src/cli/controller-arguments.js';

describe('pgbackup controller arguments', () => {
  it('watches every namespace and serves on 0.0.0.0:8080 by default', () => {
    const options = parseControllerArguments(['--identity', 'a']);
    expect(options).toMatchObject({
      namespaces: [],
      metricsAddress: '0.0.0.0:8080',
      leaseName: 'pgbackup-operator',
      leaseDurationSeconds: 15,
      renewDeadlineSeconds: 10,
      retryPeriodSeconds: 2,
      resyncSeconds: 300,
      workers: 4,
      identity: 'a',
    });
  });

  it('takes a comma-separated list of namespaces', () => {
    const options = parseControllerArguments(['--namespaces', 'shop, billing,']);
    expect(options).not.toBe('help');
    if (options !== 'help') expect(options.namespaces).toEqual(['shop', 'billing']);
  });

  it('refuses a duration that is not a positive number, naming the option', () => {
    expect(() => parseControllerArguments(['--resync-seconds', '0'])).toThrow(UsageError);
    expect(() => parseControllerArguments(['--resync-seconds', 'soon'])).toThrow(
      /--resync-seconds/,
    );
    expect(() => parseControllerArguments(['--no-such-flag'])).toThrow(UsageError);
  });
});
