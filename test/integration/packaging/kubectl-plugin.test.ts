/**
 * `kubectl pgbackup …` (DESIGN.md §5): package.json installs the bundle under a second name,
 * `kubectl-pgbackup`, and kubectl runs any `kubectl-<name>` on the PATH as its plugin `name`.
 * Here the link is made as npm's bin linking makes it, and the real kubectl finds and runs it.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../../harness/env/layout.js';
import { ensureBuiltOperator } from '../../harness/executor/built-operator.js';
import { requireEnv } from '../../harness/variables.js';

const PLUGIN = 'kubectl-pgbackup';
const bin = mkdtempSync(join(tmpdir(), 'pgbackup-kubectl-plugin-'));

afterAll(() => rmSync(bin, { recursive: true, force: true }));

function kubectl(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      join(requireEnv('PGBACKUP_KUBE_BIN'), 'kubectl'),
      args,
      // Only the plugin's directory and node's: no other pgbackup can be found.
      { env: { PATH: `${bin}:${dirname(process.execPath)}:/usr/bin:/bin`, HOME: bin } },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : 1;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

describe('pgbackup as the kubectl plugin `kubectl pgbackup`', () => {
  it('is installed under the name kubectl looks for', () => {
    const { bin: bins } = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8'));
    expect(bins[PLUGIN]).toBe(bins.pgbackup);
  });

  it('is found and run by kubectl, with its arguments', async () => {
    symlinkSync(await ensureBuiltOperator(), join(bin, PLUGIN));
    const plugins = await kubectl(['plugin', 'list', '--name-only']);
    expect(plugins.stdout.split('\n')).toContain(PLUGIN);

    const { version } = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8'));
    await expect(kubectl(['pgbackup', 'version'])).resolves.toEqual({
      code: 0,
      stdout: `pgbackup ${version}\n`,
      stderr: '',
    });
    const help = await kubectl(['pgbackup', 'list', '--help']);
    expect(help.code, help.stderr).toBe(0);
    expect(help.stdout).toContain('usage: pgbackup list');
    const wrong = await kubectl([
      'pgbackup',
      'restore',
      '--policy',
      'databases/orders',
      '--type',
      'incremental',
    ]);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain('--type "incremental" is not supported; use binary or logical');
  }, 300_000);
});
