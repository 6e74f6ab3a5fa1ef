/**
 * The image's entrypoint as the image runs it, short of building the image (no Docker
 * here): the bundle of the compiled CLI (`npm run build`'s dist/bin/pgbackup.mjs, laid out
 * beside its package.json as in the image's /app), run as the image's user 65532 with
 * HOME and TMPDIR in a directory of its own, where nothing else is writable to it (the
 * repository, node_modules and the compiled files belong to root), as on a read-only root
 * filesystem with an emptyDir at /tmp.
 */
import { execFile } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  copyFileSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../../harness/env/layout.js';
import { ensureBuiltOperator } from '../../harness/executor/built-operator.js';
import { buildForOtherUsers } from '../../harness/shared-build.js';

const IMAGE_UID = 65532;
const isRoot = process.getuid?.() === 0;
const scratch = mkdtempSync(join(tmpdir(), 'pgbackup-image-user-'));

function runAsImageUser(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  // The build and node copied where 65532 can reach them when the checkout is private.
  return buildForOtherUsers().then(
    (runtime) =>
      new Promise((resolve) => {
        execFile(
          runtime.node,
          [runtime.bundle, ...args],
          {
            uid: IMAGE_UID,
            gid: IMAGE_UID,
            cwd: '/',
            env: { HOME: scratch, TMPDIR: scratch, PATH: '/usr/bin:/bin' },
          },
          (error, stdout, stderr) => {
            const code = error === null ? 0 : typeof error.code === 'number' ? error.code : 1;
            resolve({ code, stdout, stderr });
          },
        );
      }),
  );
}

const policyDirs: string[] = [];

/** examples/quickstart.yaml where 65532 can read it (the checkout may be private to root). */
function quickstartReadableByImageUser(): string {
  const dir = mkdtempSync(join(tmpdir(), 'pgbackup-image-user-policy-'));
  chmodSync(dir, 0o755);
  const file = join(dir, 'quickstart.yaml');
  copyFileSync(join(repoRoot, 'examples', 'quickstart.yaml'), file);
  chmodSync(file, 0o644);
  policyDirs.push(dir);
  return file;
}
afterAll(() => {
  for (const dir of [scratch, ...policyDirs]) rmSync(dir, { recursive: true, force: true });
});

describe.skipIf(!isRoot)(
  "the image's entrypoint, as user 65532 with only its /tmp writable",
  () => {
    it('serves every command of the one program', async () => {
      chownSync(scratch, IMAGE_UID, IMAGE_UID);
      const help = await runAsImageUser(['help']);
      expect(help).toMatchObject({ code: 0, stderr: '' });
      expect(help.stdout).toContain(
        'commands: plan, run, controller, verify, list, restore, backup',
      );
      // The bundle finds the package.json two directories above it, as in the image.
      const { version } = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8'));
      await expect(runAsImageUser(['version'])).resolves.toEqual({
        code: 0,
        stdout: `pgbackup ${version}\n`,
        stderr: '',
      });
      for (const command of ['plan', 'run', 'controller', 'verify', 'list', 'restore', 'backup']) {
        const result = await runAsImageUser([command, '--help']);
        expect(result.code, `${command} --help: ${result.stderr}`).toBe(0);
        expect(result.stdout, command).toContain(`usage: pgbackup ${command}`);
      }
    }, 300_000);

    it('previews a policy without writing a file, even to its temporary directory', async () => {
      const result = await runAsImageUser([
        'plan',
        '-f',
        quickstartReadableByImageUser(),
        '--from',
        '2026-12-25',
        '--to',
        '2026-12-31',
      ]);
      expect(result.code, result.stderr).toBe(0);
      expect(result.stdout).toContain('Slots at the end of 2026-12-31');
      expect(readdirSync(scratch)).toEqual([]);
    }, 300_000);
  },
);

describe('the program run through a symlink, as npm links package.json\'s "bin"', () => {
  it('runs its command (the link is not mistaken for an import)', async () => {
    const main = await ensureBuiltOperator();
    const link = join(scratch, 'pgbackup');
    symlinkSync(main, link);
    const { stdout } = await promisify(execFile)(process.execPath, [link, 'version']);
    expect(stdout).toMatch(/^pgbackup \d+\.\d+\.\d+\n$/);
  }, 300_000);
});
