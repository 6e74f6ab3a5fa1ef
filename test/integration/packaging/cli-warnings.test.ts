/**
 * The CLI prints what it has to say and nothing else: run from the repository (the built
 * bundle, with a clean environment, not the image's, which disables the AWS SDK's Node-version
 * warning itself), a command that uses the bucket writes no runtime warning to stderr. On Node
 * 20 the AWS SDK warns at its first client (several lines announcing that it will require Node
 * 22); on Node 22 and later it has nothing to warn about, and the test still checks that stderr
 * stays empty.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ensureBuiltOperator } from '../../harness/executor/built-operator.js';
import { requireEnv } from '../../harness/variables.js';
import { writeTestPolicy } from '../binary/policy-file.js';

const scratch = mkdtempSync(join(tmpdir(), 'pgbackup-cli-warnings-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function runBuiltCli(
  args: readonly string[],
): Promise<{ code: number; stdout: string; stderr: string }> {
  return ensureBuiltOperator().then(
    (bundle) =>
      new Promise((resolve) => {
        execFile(
          process.execPath,
          [bundle, ...args],
          {
            // Only what a user's shell would have: no AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED.
            env: {
              PATH: '/usr/bin:/bin',
              HOME: scratch,
              TMPDIR: scratch,
              AWS_ACCESS_KEY_ID: requireEnv('AWS_ACCESS_KEY_ID'),
              AWS_SECRET_ACCESS_KEY: requireEnv('AWS_SECRET_ACCESS_KEY'),
              AWS_REGION: requireEnv('AWS_REGION'),
            },
          },
          (error, stdout, stderr) => {
            const code = error === null ? 0 : typeof error.code === 'number' ? error.code : 1;
            resolve({ code, stdout, stderr });
          },
        );
      }),
  );
}

describe('the CLI run from the repository', () => {
  it('prints no AWS SDK Node-version warning (or any other) when it uses the bucket', async () => {
    const policy = await writeTestPolicy('daily.yaml');
    const result = await runBuiltCli(['list', '-f', policy.file]);
    expect(result.stderr).not.toMatch(/NodeVersionSupportWarning|support|Warning/);
    expect(result).toMatchObject({ code: 0, stderr: '' });
  }, 300_000);
});
