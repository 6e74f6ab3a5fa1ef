import { describe, expect, it } from 'vitest';
import { parseListArguments } from '../../../src/cli/list-arguments.js';

describe('pgbackup list arguments', () => {
  it('lists both types as text by default', () => {
    expect(parseListArguments(['-f', 'policy.yaml'])).toEqual({
      source: { kind: 'file', file: 'policy.yaml' },
      types: ['binary', 'logical'],
      line: undefined,
      localDir: undefined,
      format: 'text',
    });
  });

  it('takes an in-cluster policy, a type, a line and json output', () => {
    expect(
      parseListArguments([
        '--policy',
        'shop/orders',
        '--type',
        'logical',
        '--line',
        'weekly',
        '-o',
        'json',
      ]),
    ).toEqual({
      source: { kind: 'cluster', namespace: 'shop', name: 'orders' },
      types: ['logical'],
      line: 'weekly',
      localDir: undefined,
      format: 'json',
    });
    expect(parseListArguments(['-f', 'p.yaml', '--output', 'text'])).toMatchObject({
      format: 'text',
    });
  });

  it('lists only binary backups from a local volume, which holds no logical ones', () => {
    expect(
      parseListArguments(['-f', 'p.yaml', '--local-dir', '/var/lib/pgbackup/local']),
    ).toMatchObject({
      types: ['binary'],
      localDir: '/var/lib/pgbackup/local',
    });
    expect(() =>
      parseListArguments(['-f', 'p.yaml', '--type', 'logical', '--local-dir', '/l']),
    ).toThrow(
      '--local-dir holds binary backups only: list logical backups from the bucket (drop --local-dir)',
    );
    expect(() => parseListArguments(['-f', 'p.yaml', '--local-dir', ''])).toThrow(
      '--local-dir needs a directory',
    );
  });

  it('takes on-demand and the lines of the listed types only', () => {
    expect(parseListArguments(['-f', 'p.yaml', '--line', 'on-demand'])).toMatchObject({
      line: 'on-demand',
    });
    expect(parseListArguments(['-f', 'p.yaml', '--line', 'daily'])).toMatchObject({
      line: 'daily',
    });
    expect(() =>
      parseListArguments(['-f', 'p.yaml', '--type', 'logical', '--line', 'daily']),
    ).toThrow(
      '--line "daily" is not a line of logical backups; use one of weekly, monthly, quarterly, yearly, on-demand',
    );
    expect(() => parseListArguments(['-f', 'p.yaml', '--line', 'hourly'])).toThrow(
      '--line "hourly" is not a line; use one of daily, weekly, monthly, quarterly, yearly, on-demand',
    );
  });

  it('refuses an unknown type or output format, with the usage', () => {
    expect(() => parseListArguments(['-f', 'p.yaml', '--type', 'physical'])).toThrow(
      '--type "physical" is not supported; use binary or logical (or omit it for both)',
    );
    expect(() => parseListArguments(['-f', 'p.yaml', '-o', 'yaml'])).toThrow(
      /^-o "yaml" is not an output format; use text or json\n\nusage: pgbackup list/,
    );
  });

  it('wants exactly one of -f and --policy', () => {
    expect(() => parseListArguments([])).toThrow(
      'give exactly one of -f POLICY.yaml or --policy NAMESPACE/NAME',
    );
    expect(() => parseListArguments(['--policy', 'orders'])).toThrow(
      '--policy "orders" must be NAMESPACE/NAME',
    );
  });

  it('answers --help with the usage', () => {
    expect(parseListArguments(['-h'])).toBe('help');
  });
});
