import { tmpdir } from 'node:os';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../../src/cli/command.js';
import { parseRestoreArguments, RESTORE_USAGE } from '../../../src/cli/restore-arguments.js';

/** The usage error `argv` raises. */
function usageErrorOf(argv: readonly string[]): UsageError {
  try {
    parseRestoreArguments(argv);
  } catch (error) {
    if (error instanceof UsageError) return error;
    throw error;
  }
  throw new Error(`${argv.join(' ')} was accepted`);
}

describe('pgbackup restore arguments', () => {
  it('restores the newest binary backup of a policy file into a target, working beside it', () => {
    expect(
      parseRestoreArguments(['-f', 'policy.yaml', '--target-dir', '/srv/pg/restored']),
    ).toEqual({
      source: { kind: 'file', file: 'policy.yaml' },
      choice: { key: undefined, line: undefined },
      pgRoot: undefined,
      type: 'binary',
      localDir: undefined,
      targetDir: '/srv/pg/restored',
      workDir: '/srv/pg',
      recoveryTarget: undefined,
      pause: false,
    });
  });

  it('resolves a relative target, and the default work directory is its parent', () => {
    const args = parseRestoreArguments(['-f', 'p.yaml', '--target-dir', 'restored/data']);

    expect(args).toMatchObject({
      targetDir: resolve('restored/data'),
      workDir: resolve('restored'),
    });
  });

  it('takes a cluster policy, a key, a local volume, a work directory and the tools', () => {
    const args = parseRestoreArguments([
      '--policy',
      'shop/orders',
      '--type',
      'binary',
      '--backup',
      'p/shop/orders/binary/daily/1/20260302T020000Z-0a1b2c3d/',
      '--local-dir',
      '/var/lib/pgbackup/local',
      '--target-dir',
      '/srv/pg/restored',
      '--work-dir',
      'scratch',
      '--pg-root',
      '/opt/pg',
    ]);

    expect(args).toEqual({
      source: { kind: 'cluster', namespace: 'shop', name: 'orders' },
      choice: { key: 'p/shop/orders/binary/daily/1/20260302T020000Z-0a1b2c3d/', line: undefined },
      pgRoot: '/opt/pg',
      type: 'binary',
      localDir: '/var/lib/pgbackup/local',
      targetDir: '/srv/pg/restored',
      workDir: resolve('scratch'),
      recoveryTarget: undefined,
      pause: false,
    });
  });

  it("takes a line's newest", () => {
    const args = parseRestoreArguments(['-f', 'p.yaml', '--line', 'weekly', '--target-dir', '/d']);

    expect(args).toMatchObject({ choice: { key: undefined, line: 'weekly' } });
  });

  it('restores one database logically, with one job, into the temporary directory by default', () => {
    expect(parseRestoreArguments(['-f', 'p.yaml', '--type', 'logical'])).toEqual({
      source: { kind: 'file', file: 'p.yaml' },
      choice: { key: undefined, line: undefined },
      pgRoot: undefined,
      type: 'logical',
      database: undefined,
      into: undefined,
      noOwner: false,
      jobs: 1,
      workDir: resolve(tmpdir()),
    });
  });

  it("takes a logical restore's database, new name, --no-owner and jobs", () => {
    const args = parseRestoreArguments([
      '-f',
      'p.yaml',
      '--type',
      'logical',
      '--database',
      'orders',
      '--into',
      'orders_copy',
      '--no-owner',
      '--jobs',
      '64',
    ]);

    expect(args).toMatchObject({
      database: 'orders',
      into: 'orders_copy',
      noOwner: true,
      jobs: 64,
    });
  });

  it('answers --help and -h with the usage', () => {
    expect(parseRestoreArguments(['--help'])).toBe('help');
    expect(parseRestoreArguments(['-h'])).toBe('help');
  });

  it('wants exactly one of -f and --policy, and --policy as NAMESPACE/NAME', () => {
    expect(usageErrorOf(['--target-dir', '/d']).message).toContain(
      'give exactly one of -f POLICY.yaml or --policy NAMESPACE/NAME',
    );
    expect(
      usageErrorOf(['-f', 'p.yaml', '--policy', 'a/b', '--target-dir', '/d']).message,
    ).toContain('give exactly one of -f POLICY.yaml or --policy NAMESPACE/NAME');
    expect(usageErrorOf(['--policy', 'orders', '--target-dir', '/d']).message).toContain(
      '--policy "orders" must be NAMESPACE/NAME, e.g. databases/orders',
    );
    expect(usageErrorOf(['--policy', 'a/b/c', '--target-dir', '/d']).message).toContain(
      '--policy "a/b/c" must be NAMESPACE/NAME',
    );
  });

  it('takes a key or a line, not both', () => {
    const error = usageErrorOf([
      '-f',
      'p.yaml',
      '--backup',
      'k/',
      '--line',
      'daily',
      '--target-dir',
      '/d',
    ]);

    expect(error.message).toContain('give --backup KEY or --line LINE, not both');
  });

  it('needs --target-dir for a binary restore', () => {
    const message =
      '--target-dir DIR is required: the data directory to restore into (it must not exist, or be empty)';
    expect(usageErrorOf(['-f', 'p.yaml']).message).toContain(message);
    expect(usageErrorOf(['-f', 'p.yaml', '--target-dir', '']).message).toContain(message);
  });

  it("refuses the other type's options, naming them", () => {
    expect(
      usageErrorOf(['-f', 'p.yaml', '--target-dir', '/d', '--database', 'orders', '--jobs', '2'])
        .message,
    ).toContain('--database, --jobs go only with --type logical');
    expect(usageErrorOf(['-f', 'p.yaml', '--target-dir', '/d', '--no-owner']).message).toContain(
      '--no-owner goes only with --type logical',
    );
    expect(
      usageErrorOf(['-f', 'p.yaml', '--type', 'logical', '--local-dir', '/l', '--target-dir', '/d'])
        .message,
    ).toContain('--local-dir, --target-dir go only with --type binary');
  });

  it('wants --jobs a whole number from 1 to 64', () => {
    for (const jobs of ['0', '65', '1.5', 'two', '-1', '']) {
      // --jobs=VALUE: parseArgs takes a separate "-1" for a missing value.
      expect(
        usageErrorOf(['-f', 'p.yaml', '--type', 'logical', `--jobs=${jobs}`]).message,
      ).toContain(`--jobs "${jobs}" must be a whole number from 1 to 64`);
    }
  });

  it('names the types it supports', () => {
    expect(
      usageErrorOf(['-f', 'p.yaml', '--type', 'physical', '--target-dir', '/d']).message,
    ).toContain('--type "physical" is not supported; use binary or logical');
  });

  it('takes a point-in-time target, and refuses what does not go with one', () => {
    const base = ['-f', 'p.yaml', '--target-dir', '/d'];
    expect(
      parseRestoreArguments([...base, '--target-time', '2026-12-03T14:40:01.5Z']),
    ).toMatchObject({
      recoveryTarget: { kind: 'time', micros: Date.parse('2026-12-03T14:40:01.5Z') * 1000 },
      pause: false,
    });
    expect(parseRestoreArguments([...base, '--target-lsn', '0/3000148', '--pause'])).toMatchObject({
      recoveryTarget: { kind: 'lsn', lsn: 0x3000148n },
      pause: true,
    });
    expect(parseRestoreArguments([...base, '--target-latest'])).toMatchObject({
      recoveryTarget: { kind: 'latest' },
    });
    expect(() =>
      parseRestoreArguments([...base, '--target-latest', '--target-lsn', '0/1']),
    ).toThrow(/give one of --target-lsn, --target-latest/);
    expect(() => parseRestoreArguments([...base, '--target-time', '2026-12-03 14:40'])).toThrow(
      /with a zone/,
    );
    expect(() => parseRestoreArguments([...base, '--target-latest', '--line', 'daily'])).toThrow(
      /chooses its backup/,
    );
    expect(() => parseRestoreArguments([...base, '--pause'])).toThrow(/--pause goes with/);
    expect(() => parseRestoreArguments([...base, '--target-latest', '--pause'])).toThrow(
      /--pause goes with/,
    );
  });

  it('refuses unknown options and positional arguments, with the usage', () => {
    const unknown = usageErrorOf(['-f', 'p.yaml', '--target-dir', '/d', '--force']);
    expect(unknown.message).toContain("Unknown option '--force'");
    expect(unknown.message.endsWith(RESTORE_USAGE.trimEnd())).toBe(true);

    const positional = usageErrorOf(['-f', 'p.yaml', '--target-dir', '/d', 'extra']);
    expect(positional.message).toContain("Unexpected argument 'extra'");
  });

  it('ends every error with the usage', () => {
    expect(usageErrorOf(['-f', 'p.yaml']).message.endsWith(RESTORE_USAGE.trimEnd())).toBe(true);
  });
});
