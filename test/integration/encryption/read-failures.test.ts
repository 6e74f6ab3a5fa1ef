/**
 * Reading an encrypted backup with a missing or wrong identity, or one whose object was
 * changed in the bucket, fails with a message that says what is wrong and changes nothing:
 * no target directory is left, no database is created, nothing stays in the work directory.
 * A changed object is first a mismatch with the manifest's SHA-256 (of the stored bytes); when
 * the manifest is rewritten to match it, age's authentication still refuses it.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dumpObjectNameOf } from '../../../src/runner/dump-databases.js';
import type { BackupManifest } from '../../../src/storage/index.js';
import { runEnvironment, startPgbackup } from '../../harness/pgbackup-run.js';
import { serverAddress, superuserClient, withClient } from '../../harness/postgres.js';
import { uniqueSuffix } from '../../harness/variables.js';
import { readManifest } from '../logical/restore-dump.js';
import { restoreParentDir, runRestore } from '../restore/restore-run.js';
import {
  type EncryptedBackups,
  readStored,
  takeEncryptedBackups,
  writeStored,
} from './encrypted-backups.js';

let backups: EncryptedBackups;

beforeAll(async () => {
  backups = await takeEncryptedBackups();
});

afterAll(async () => {
  await backups?.dispose();
});

function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/**
 * Flips a byte in the middle of the backup's one object named `name` for the length of
 * `work`; with `rewriteManifest` the manifest's SHA-256 is made to match the changed bytes,
 * so only age's authentication can notice. Both are put back afterwards.
 */
async function withChangedObject<T>(
  key: string,
  name: string,
  rewriteManifest: boolean,
  work: (changed: { objectKey: string; sha256: string; recorded: string }) => Promise<T>,
): Promise<T> {
  const manifestKey = `${key}manifest.json`;
  const manifestText = (await readStored(manifestKey)).toString('utf8');
  const manifest = JSON.parse(manifestText) as BackupManifest;
  const object = manifest.objects.find((each) => each.name === name);
  if (object === undefined) throw new Error(`the backup holds no ${name}`);
  const objectKey = `${key}${name}`;
  const original = await readStored(objectKey);
  const changed = Buffer.from(original);
  const middle = Math.floor(changed.length / 2);
  changed[middle] = (changed[middle] ?? 0) ^ 0x01;
  await writeStored(objectKey, changed);
  if (rewriteManifest) {
    const rewritten = {
      ...manifest,
      objects: manifest.objects.map((each) =>
        each.name === name ? { ...each, sha256: sha256(changed) } : each,
      ),
    };
    await writeStored(manifestKey, `${JSON.stringify(rewritten, null, 2)}\n`);
  }
  try {
    return await work({ objectKey, sha256: sha256(changed), recorded: object.sha256 });
  } finally {
    await writeStored(objectKey, original);
    await writeStored(manifestKey, manifestText);
  }
}

describe('pgbackup restore --type binary of an encrypted backup', () => {
  const parents: string[] = [];

  async function restore(extra: readonly string[]) {
    const parent = await restoreParentDir();
    parents.push(parent);
    const target = join(parent, 'data');
    const run = await runRestore(
      ['-f', backups.binary.policy.file, '--target-dir', target, ...extra],
      parent,
    );
    return { ...run, target };
  }

  afterAll(async () => {
    for (const parent of parents) await rm(parent, { recursive: true, force: true });
  });

  it('without --identity is refused before anything is written, naming the recipient and the option', async () => {
    const run = await restore([]);

    expect(run.code).toBe(1);
    expect(run.stderr).toContain(
      `the backup ${backups.binary.key} is encrypted for recipient ${backups.owner.fingerprint} and no identity was given: pass its age identity file with --identity FILE (in the cluster: the Secret named by spec.storage.encryption.identity`,
    );
    expect(run.stderr).toContain('Nothing was downloaded or written');
    expect(run.leftInParent).toEqual([]);
  });

  it('with another key is refused before anything is written, naming both fingerprints', async () => {
    const run = await restore(['--identity', backups.stranger.path]);

    expect(run.code).toBe(1);
    expect(run.stderr).toContain(
      `the backup ${backups.binary.key} was encrypted for recipient ${backups.owner.fingerprint}, and none of the given identities (--identity ${backups.stranger.path}: for ${backups.stranger.fingerprint}) is for it`,
    );
    expect(run.leftInParent).toEqual([]);
  });

  it('with a changed object fails on its SHA-256 and takes back the whole target', async () => {
    await withChangedObject(backups.binary.key, 'base.tar.zst.age', false, async (changed) => {
      const run = await restore(['--identity', backups.owner.path]);

      expect(run.code).toBe(1);
      expect(run.stderr).toContain(
        `could not restore ${backups.binary.key} into ${run.target}: object ${changed.objectKey} does not match its manifest: SHA-256 ${changed.sha256} where the manifest says ${changed.recorded}`,
      );
      expect(run.leftInParent).toEqual([]);
    });
  });

  it('with a changed object whose manifest was rewritten to match fails age authentication and takes back the whole target', async () => {
    await withChangedObject(backups.binary.key, 'base.tar.zst.age', true, async (changed) => {
      const run = await restore(['--identity', backups.owner.path]);

      expect(run.code).toBe(1);
      expect(run.stderr).toContain(
        `could not restore ${backups.binary.key} into ${run.target}: ${changed.objectKey}: chunk `,
      );
      expect(run.stderr).toContain(
        'fails authentication: the object was changed or damaged after it was written; restore another backup',
      );
      expect(run.stderr).not.toContain('does not match its manifest');
      expect(run.leftInParent).toEqual([]);
    });
  });
});

describe('pgbackup restore --type logical of an encrypted backup', () => {
  let workDir: string;
  const into = `encrypted_copy_${uniqueSuffix()}`;
  const dumpName = () => `${dumpObjectNameOf(backups.database)}.age`;

  async function restore(extra: readonly string[]) {
    const primary = serverAddress('primary');
    const env = runEnvironment({ PGHOST: primary.host, PGPORT: String(primary.port) });
    const argv = ['restore', '-f', backups.logical.policy.file, '--type', 'logical'];
    const outcome = await startPgbackup(
      [...argv, '--work-dir', workDir, '--into', into, ...extra],
      env,
    ).outcome;
    return { ...outcome, leftInWorkDir: await readdir(workDir) };
  }

  async function intoExists(): Promise<boolean> {
    return withClient(superuserClient('primary'), async (client) => {
      const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [into]);
      return found.rows.length > 0;
    });
  }

  beforeAll(async () => {
    workDir = await mkdtemp(join(tmpdir(), 'pgbackup-encrypted-logical-'));
  });

  afterAll(async () => {
    await withClient(superuserClient('primary'), (client) =>
      client.query(`DROP DATABASE IF EXISTS ${client.escapeIdentifier(into)} WITH (FORCE)`),
    );
    if (workDir !== undefined) await rm(workDir, { recursive: true, force: true });
  });

  it('without --identity is refused before anything is downloaded, and creates no database', async () => {
    const run = await restore([]);

    expect(run.code).toBe(1);
    expect(run.stderr).toContain(
      `the backup ${backups.logical.key} is encrypted for recipient ${backups.owner.fingerprint} and no identity was given: pass its age identity file with --identity FILE`,
    );
    expect(await intoExists()).toBe(false);
    expect(run.leftInWorkDir).toEqual([]);
  });

  it('with another key is refused naming both fingerprints, and creates no database', async () => {
    const run = await restore(['--identity', backups.stranger.path]);

    expect(run.code).toBe(1);
    expect(run.stderr).toContain(
      `the backup ${backups.logical.key} was encrypted for recipient ${backups.owner.fingerprint}, and none of the given identities (--identity ${backups.stranger.path}: for ${backups.stranger.fingerprint}) is for it`,
    );
    expect(await intoExists()).toBe(false);
    expect(run.leftInWorkDir).toEqual([]);
  });

  it('with a changed dump fails on its SHA-256, and creates no database', async () => {
    await withChangedObject(backups.logical.key, dumpName(), false, async (changed) => {
      const run = await restore(['--identity', backups.owner.path]);

      expect(run.code).toBe(1);
      expect(run.stderr).toContain(
        `object ${changed.objectKey} does not match its manifest: SHA-256 ${changed.sha256} where the manifest says ${changed.recorded}`,
      );
      expect(await intoExists()).toBe(false);
      expect(run.leftInWorkDir).toEqual([]);
    });
  });

  it('with a changed dump whose manifest was rewritten to match fails age authentication, and creates no database', async () => {
    await withChangedObject(backups.logical.key, dumpName(), true, async (changed) => {
      const run = await restore(['--identity', backups.owner.path]);

      expect(run.code).toBe(1);
      expect(run.stderr).toContain(`${changed.objectKey}: `);
      expect(run.stderr).toContain('fails authentication: the object was changed or damaged');
      expect(await intoExists()).toBe(false);
      expect(run.leftInWorkDir).toEqual([]);
    });
  });

  it('reads the manifest it was given, which still names the recipient', async () => {
    expect((await readManifest(backups.logical.key)).encryption?.recipients).toEqual([
      backups.owner.fingerprint,
    ]);
  });
});
