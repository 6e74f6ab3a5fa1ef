/**
 * Continuous protection of a policy with `spec.storage.encryption`, against a real PostgreSQL 15
 * primary and MinIO: the receiver stores every WAL object as age ciphertext (`.age`, the
 * recipients' fingerprints and the stored bytes' SHA-256 in its metadata), which Debian's
 * `age -d` and zstd turn back into the server's exact segment; `pgbackup wal-fetch --identity`
 * serves it, and fetching without an identity, with another one, or of a tampered object fails
 * (126) naming what is wrong and leaves nothing where recovery asked for the file.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmod, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buffer } from 'node:stream/consumers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fingerprintRecipient } from '../../../src/encryption/index.js';
import { segmentFileName, segmentOf } from '../../../src/retention/wal-names.js';
import type { WalStore } from '../../../src/storage/index.js';
import { runEnvironment, startPgbackup } from '../../harness/pgbackup-run.js';
import { type ScratchServer, startScratchPrimary } from '../../harness/scratch-postgres.js';
import { generateKeyFile, requireAgeTools } from '../encryption/age-tool.js';
import { hostOf } from '../logical/scratch-pair.js';
import {
  currentLsn,
  makeWal,
  readWalObject,
  SEGMENT_SIZE,
  type StartedReceiver,
  startReceiver,
  type WalPolicy,
  waitFor,
  waitStreaming,
  walNames,
  walStoreOf,
  walTestHost,
  writeWalPolicy,
} from './receiver-harness.js';

const AGE_HEADER = 'age-encryption.org/v1\n';

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

/** A key pair: the identity file (0600) and its public key. */
interface KeyPair {
  readonly file: string;
  readonly publicKey: string;
  readonly fingerprint: string;
}

async function keyPair(dir: string, name: string): Promise<KeyPair> {
  const { path, text } = await generateKeyFile(dir, name);
  const publicKey = /# public key: (age1[0-9a-z]+)/.exec(text)?.[1] ?? '';
  await chmod(path, 0o600);
  return { file: path, publicKey, fingerprint: fingerprintRecipient(publicKey) };
}

describe('continuous protection of an encrypted policy', () => {
  let dir: string;
  let server: ScratchServer;
  let policy: WalPolicy;
  let store: WalStore;
  let receiver: StartedReceiver | undefined;
  let key: KeyPair;
  let otherKey: KeyPair;
  /** Completed segments the receiver stored, by their 24-hex names. */
  let segments: string[] = [];

  async function fetchWal(file: string, destination: string, identity?: string) {
    return startPgbackup(
      [
        'wal-fetch',
        file,
        destination,
        '-f',
        policy.file,
        ...(identity === undefined ? [] : ['--identity', identity]),
      ],
      runEnvironment(),
    ).outcome;
  }

  /** A fetch that must fail with 126 and leave the directory as it was: its stderr. */
  async function refusedFetch(file: string, identity?: string): Promise<string> {
    const target = await mkdtemp(join(dir, 'refused-'));
    const outcome = await fetchWal(file, join(target, 'RECOVERYXLOG'), identity);
    expect(outcome.code, outcome.stderr).toBe(126);
    expect(await readdir(target)).toEqual([]);
    return outcome.stderr;
  }

  beforeAll(async () => {
    requireAgeTools();
    dir = await mkdtemp(join(tmpdir(), 'pgbackup-encrypted-wal-'));
    key = await keyPair(dir, 'key.txt');
    otherKey = await keyPair(dir, 'other-key.txt');
    server = await startScratchPrimary(walTestHost(100));
    policy = await writeWalPolicy({
      hosts: [hostOf(server)],
      name: 'encrypted-wal',
      recipients: [key.publicKey],
    });
    store = walStoreOf(policy);
    receiver = startReceiver(policy);
    await waitStreaming(receiver);
    const client = server.client('postgres');
    await client.connect();
    try {
      await makeWal(client, 3);
      const last = segmentOf(await currentLsn(client), SEGMENT_SIZE) - 1n;
      segments = [last - 2n, last - 1n, last].map((segment) =>
        segmentFileName(1, segment, SEGMENT_SIZE),
      );
      await client.query("INSERT INTO wal_filler (payload) VALUES ('after the switch')");
    } finally {
      await client.end();
    }
    await waitFor(
      `${segments.join(', ')} and a partial, encrypted`,
      async () => {
        const names = await walNames(store);
        return (
          segments.every((name) => names.includes(`${name}.zst.age`)) &&
          names.some((name) => name.endsWith('.zst.partial.age'))
        );
      },
      60_000,
      receiver,
    );
  }, 240_000);

  afterAll(async () => {
    await receiver?.stop();
    await server?.stop();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  }, 120_000);

  it('stores every object as age ciphertext with the recipients and SHA-256 in its metadata', async () => {
    const names = await walNames(store);
    expect(names.length).toBeGreaterThan(3);
    expect(names.filter((name) => !name.endsWith('.age'))).toEqual([]);
    const partial = names.find((name) => name.endsWith('.zst.partial.age')) ?? '';
    for (const name of [...segments.map((segment) => `${segment}.zst.age`), partial]) {
      const { body, sha256: claimed, recipients, endLsn } = await store.read(name);
      const stored = await buffer(body);
      expect(stored.subarray(0, AGE_HEADER.length).toString('latin1')).toBe(AGE_HEADER);
      expect(claimed).toBe(sha256(stored));
      expect(recipients).toEqual([key.fingerprint]);
      expect(endLsn === undefined).toBe(name !== partial);
      // Neither the WAL's page header magic nor a row's text shows through.
      expect(stored.includes(Buffer.from('after the switch'))).toBe(false);
    }
  });

  it('wal-status reads the encrypted WAL continuous, without the identity', async () => {
    const run = await startPgbackup(
      ['wal-status', '-f', policy.file, '-o', 'json'],
      runEnvironment(),
    ).outcome;
    expect(run.code, run.stderr).toBe(0);
    const status = JSON.parse(run.stdout);
    expect(status.gaps).toEqual([]);
    expect(status.objects.encrypted).toBe((await walNames(store)).length);
    expect(status.objects.segments).toBeGreaterThanOrEqual(3);
  }, 60_000);

  it('decrypts with the stock age and zstd to exactly the server’s segment', async () => {
    for (const name of segments) {
      const object = await readWalObject(store, `${name}.zst.age`, key.file);
      expect(object.sha256Matches).toBe(true);
      const serverBytes = await readFile(join(server.dir, 'data', 'pg_wal', name));
      // As a person would, with the stock tools only: age -d -i key.txt | zstd -d.
      const piped = spawnSync('sh', ['-c', 'age -d -i "$1" | zstd -dc', 'sh', key.file], {
        input: object.stored,
        maxBuffer: 2 * SEGMENT_SIZE,
      });
      expect(piped.status, piped.stderr.toString()).toBe(0);
      expect(piped.stdout.equals(serverBytes), name).toBe(true);
      expect(object.bytes.equals(serverBytes), name).toBe(true);
    }
  }, 60_000);

  it('wal-fetch --identity serves a segment as the server wrote it', async () => {
    const name = segments[1] ?? '';
    const destination = join(dir, 'RECOVERYXLOG');
    const outcome = await fetchWal(name, destination, key.file);
    expect(outcome.code, outcome.stderr).toBe(0);
    const serverBytes = await readFile(join(server.dir, 'data', 'pg_wal', name));
    expect((await readFile(destination)).equals(serverBytes)).toBe(true);
  }, 60_000);

  it('wal-fetch without an identity fails naming the recipient and --identity, writing nothing', async () => {
    const stderr = await refusedFetch(segments[0] ?? '');
    expect(stderr).toContain(`is encrypted for recipient ${key.fingerprint}`);
    expect(stderr).toContain('no identity was given');
    expect(stderr).toContain('--identity FILE');
  }, 60_000);

  it('wal-fetch with another identity fails naming both fingerprints, writing nothing', async () => {
    const stderr = await refusedFetch(segments[0] ?? '', otherKey.file);
    expect(stderr).toContain(`was encrypted for recipient ${key.fingerprint}`);
    expect(stderr).toContain(`for ${otherKey.fingerprint}`);
    expect(stderr).not.toContain('AGE-SECRET-KEY');
  }, 60_000);

  it('wal-fetch of a tampered object fails authentication and leaves nothing behind', async () => {
    // A copy of a stored segment with one payload byte flipped, its metadata made to match,
    // so that only age's authentication can tell: the SHA-256 check passes.
    const source = segments[2] ?? '';
    const { body, recipients } = await store.read(`${source}.zst.age`);
    const tampered = await buffer(body);
    const at = tampered.length - 100;
    tampered[at] = (tampered[at] ?? 0) ^ 0x01;
    const copy = segmentFileName(1, segmentOf(0xf0_0000_0000n, SEGMENT_SIZE), SEGMENT_SIZE);
    const path = join(dir, 'tampered');
    await writeFile(path, tampered);
    await store.putFile(`${copy}.zst.age`, path, {
      sha256: sha256(tampered),
      recipients: recipients ?? [],
    });
    try {
      const stderr = await refusedFetch(copy, key.file);
      expect(stderr).toMatch(
        /fails authentication: the object was (cut short, )?changed or damaged/,
      );
    } finally {
      await store.delete([`${copy}.zst.age`]);
    }
  }, 60_000);
});
