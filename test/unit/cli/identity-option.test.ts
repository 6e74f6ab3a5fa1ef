import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateX25519Identity } from 'age-encryption';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadIdentityFile, loadIdentityOption } from '../../../src/cli/identity-option.js';
import { parseRestoreArguments } from '../../../src/cli/restore-arguments.js';
import { parseVerifyArguments } from '../../../src/cli/verify-arguments.js';
import { fingerprintRecipient } from '../../../src/encryption/index.js';

let directory = '';

async function keyFile(name: string, text: string, mode = 0o600): Promise<string> {
  const path = join(directory, name);
  await writeFile(path, text, { mode });
  await chmod(path, mode);
  return path;
}

beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'pgbackup-identity-'));
});

afterAll(async () => {
  if (directory !== '') await rm(directory, { recursive: true, force: true });
});

describe('--identity FILE', () => {
  it('loads every identity of an age-keygen file, with its fingerprint', async () => {
    const first = await generateX25519Identity();
    const second = await generateX25519Identity();
    const path = await keyFile(
      'two.txt',
      `# created: 2026-12-03\n# public key: age1...\n${first}\n\n${second}\n`,
    );

    const loaded = await loadIdentityFile(path);

    expect(loaded.path).toBe(path);
    expect(loaded.identities.map((identity) => identity.secretKey)).toEqual([first, second]);
    expect(loaded.identities[0]?.fingerprint).toBe(
      fingerprintRecipient(loaded.identities[0]?.recipient ?? ''),
    );
  });

  it('accepts a group-readable file (a Secret mounted 0400 under an fsGroup is 0440)', async () => {
    const path = await keyFile('group.txt', `${await generateX25519Identity()}\n`, 0o440);

    await expect(loadIdentityFile(path)).resolves.toMatchObject({ path });
  });

  it('refuses a missing file, naming it', async () => {
    const path = join(directory, 'absent.txt');

    await expect(loadIdentityFile(path)).rejects.toThrow(
      `--identity ${path}: it does not exist: give the file age-keygen wrote`,
    );
  });

  it('refuses a file every user may read, naming chmod 600', async () => {
    const path = await keyFile('open.txt', `${await generateX25519Identity()}\n`, 0o644);

    await expect(loadIdentityFile(path)).rejects.toThrow(
      `--identity ${path}: it is readable by every user of this machine (mode 644): it holds a private key; \`chmod 600 ${path}\``,
    );
  });

  it('refuses a directory', async () => {
    await expect(loadIdentityFile(directory)).rejects.toThrow('it is not a regular file');
  });

  it('refuses a public key file naming the line, and never repeats what the file holds', async () => {
    const secret = await generateX25519Identity();
    const mangled = `${secret.slice(0, -3)}QQQ`;
    const path = await keyFile('mangled.txt', `# comment\n${mangled}\n`);

    const error = await loadIdentityFile(path).then(
      () => new Error('expected a refusal'),
      (caught: unknown) => caught as Error,
    );

    expect(error.message).toContain(`--identity ${path}, line 2: not an age X25519 identity`);
    expect(error.message).not.toContain(mangled.slice(16, 40));
  });

  it('is optional: no file, no identities', async () => {
    await expect(loadIdentityOption(undefined)).resolves.toBeUndefined();
  });
});

describe('the commands that read backup contents take --identity', () => {
  it('restore (binary and logical) and verify carry the file name, unread', () => {
    expect(
      parseRestoreArguments(['-f', 'p.yaml', '--target-dir', '/r/d', '--identity', 'k.txt']),
    ).toMatchObject({ type: 'binary', identityFile: 'k.txt' });
    expect(
      parseRestoreArguments(['-f', 'p.yaml', '--type', 'logical', '--identity', 'k.txt']),
    ).toMatchObject({ type: 'logical', identityFile: 'k.txt' });
    expect(parseVerifyArguments(['-f', 'p.yaml', '--identity', 'k.txt'])).toMatchObject({
      identityFile: 'k.txt',
    });
  });

  it('restore --to-pvc takes none: the Restore Job mounts the policy identity Secret', () => {
    expect(() =>
      parseRestoreArguments(['--policy', 'ns/p', '--to-pvc', 'claim', '--identity', 'k.txt']),
    ).toThrow('--identity does not go with --to-pvc');
  });
});
