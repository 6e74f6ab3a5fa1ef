import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseBackupPolicy } from '../../../src/api/index.js';
import { EncryptionError } from '../../../src/encryption/index.js';
import { type RunInput, runLogicalBackup, streamToStores } from '../../../src/runner/index.js';
import type { StreamSource } from '../../../src/runner/stream-backup.js';
import { type ArtifactStore, createLocalStore } from '../../../src/storage/index.js';
import { fixtureYaml } from '../../harness/fixtures.js';
import { decrypt, newIdentity, patterned } from '../encryption/age-streams.js';

/**
 * A tool that writes `data` (undefined: nothing yet, it waits) and then exits 0, or fails with
 * `failure`; once killed, it fails as a killed tool does.
 */
function toolWriting(
  data: Buffer | undefined,
  failure?: Error,
): StreamSource<{ exitCode: 0 }> & { killed(): boolean } {
  const stdout = data === undefined ? new PassThrough() : Readable.from([data]);
  let killed = false;
  let fail: (error: Error) => void = () => undefined;
  const exited = new Promise<{ exitCode: 0 }>((resolve, reject) => {
    fail = reject;
    stdout.on('end', () => (failure === undefined ? resolve({ exitCode: 0 }) : reject(failure)));
  });
  return {
    stdout,
    exited,
    kill: () => {
      killed = true;
      fail(new Error('the tool was killed'));
      stdout.destroy();
    },
    killed: () => killed,
  };
}

/** Every file under a directory, relative to it. */
async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries.filter((entry) => entry.isFile()).map((entry) => entry.name);
}

describe('streaming a backup encrypted', () => {
  let dirs: string[] = [];
  let stores: ArtifactStore[] = [];

  beforeEach(async () => {
    dirs = [
      await mkdtemp(join(tmpdir(), 'pgbackup-stream-a-')),
      await mkdtemp(join(tmpdir(), 'pgbackup-stream-b-')),
    ];
    stores = dirs.map((dir) => createLocalStore(dir));
  });

  afterEach(async () => {
    await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
  });

  it('stores an age file in every store, whose digest is of the stored bytes and which decrypts to the stream', async () => {
    const identity = await newIdentity();
    const plaintext = patterned(3 * 65_536 + 17);
    const key = 'b/base.tar.zst.age';

    const streamed = await streamToStores(toolWriting(plaintext), {
      targets: stores.map((store) => ({ store, key })),
      partSizeBytes: 5 * 1024 * 1024,
      recipients: [identity],
    });

    expect(streamed.exitCode).toBe(0);
    for (const dir of dirs) {
      const stored = await readFile(join(dir, key));
      expect(stored.subarray(0, 21).toString('latin1')).toBe('age-encryption.org/v1');
      expect(stored.includes(plaintext.subarray(0, 64))).toBe(false);
      expect(streamed.digest.sizeBytes).toBe(stored.length);
      expect(streamed.digest.sha256).toBe(createHash('sha256').update(stored).digest('hex'));
      expect((await decrypt([identity], [stored], [identity.fingerprint])).equals(plaintext)).toBe(
        true,
      );
    }
  });

  it('opens no object and stops the tool when the encrypter cannot be made', async () => {
    const tool = toolWriting(undefined);
    const key = 'b/base.tar.zst.age';

    const streaming = streamToStores(tool, {
      targets: stores.map((store) => ({ store, key })),
      partSizeBytes: 5 * 1024 * 1024,
      recipients: [],
    });

    await expect(streaming).rejects.toBeInstanceOf(EncryptionError);
    expect(tool.killed()).toBe(true);
    for (const dir of dirs) expect(await filesUnder(dir)).toEqual([]);
  });

  it('opens no object when a recipient is not a usable key, failing with that rather than the killed tool', async () => {
    const tool = toolWriting(undefined);
    const key = 'b/orders.dump.age';
    const broken = { recipient: 'age1notakey', fingerprint: '0123456789abcdef' };

    const streaming = streamToStores(tool, {
      targets: stores.map((store) => ({ store, key })),
      partSizeBytes: 5 * 1024 * 1024,
      recipients: [broken],
    });

    await expect(streaming).rejects.not.toThrow('the tool was killed');
    expect(tool.killed()).toBe(true);
    for (const dir of dirs) expect(await filesUnder(dir)).toEqual([]);
  });

  it('aborts every encrypted object when the tool fails after writing, with its failure', async () => {
    const identity = await newIdentity();
    const tool = toolWriting(patterned(300_000), new Error('pg_dump exited with code 1'));
    const key = 'b/orders.dump.age';

    const streaming = streamToStores(tool, {
      targets: stores.map((store) => ({ store, key })),
      partSizeBytes: 5 * 1024 * 1024,
      recipients: [identity],
    });

    await expect(streaming).rejects.toThrow('pg_dump exited with code 1');
    for (const dir of dirs) expect(await filesUnder(dir)).toEqual([]);
  });
});

describe('a run of a policy that asks for encryption', () => {
  it('is refused before any I/O when its recipients were not resolved', async () => {
    const parsed = parseBackupPolicy(fixtureYaml('render/encrypted.yaml'));
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues));
    const untouched = {
      get description(): string {
        throw new Error('the store was touched');
      },
    } as unknown as ArtifactStore;
    const input: RunInput = {
      namespace: 'shop',
      policy: 'orders',
      spec: parsed.value.spec,
      line: undefined,
      triggeredAtMs: 0,
      onDemandCommand: 'pgbackup backup',
      endpoints: [],
      selection: 'none',
      credentials: { username: 'nobody', source: 'nowhere' },
      remote: untouched,
      encryption: undefined,
      logger: pino({ level: 'silent' }),
      clock: () => 0,
    };

    await expect(runLogicalBackup(input)).rejects.toThrow(
      'BackupPolicy shop/orders sets spec.storage.encryption, but its recipients were not resolved for this run; nothing was written',
    );
  });
});
