/**
 * The uploader of an encrypted policy against MinIO, on a spool laid out as pg_receivewal
 * leaves it after a promotion: the history file is stored encrypted (`.history.age`, which the
 * stock `age -d` turns back into the file) with its switches in `timeline-switches` metadata,
 * which continuity reads without the identity; a plain partial left from before encryption
 * was turned on is deleted once its segment is stored encrypted, so only one copy answers.
 */
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buffer } from 'node:stream/consumers';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fingerprintRecipient, parseRecipients } from '../../../src/encryption/index.js';
import type { WalStore } from '../../../src/storage/index.js';
import { readBucketWal } from '../../../src/wal/bucket-wal.js';
import { prepareSpool } from '../../../src/wal/spool.js';
import { WalUploader } from '../../../src/wal/wal-uploader.js';
import { generateKeyFile, requireAgeTools, runAge } from '../encryption/age-tool.js';
import { SEGMENT_SIZE, type WalPolicy, walStoreOf, writeWalPolicy } from './receiver-harness.js';

const HISTORY = '1\t0/3000158\tno recovery target specified\n';
const SEGMENT_3 = '000000020000000000000003';
const SEGMENT_4 = '000000020000000000000004';

describe('the uploader of an encrypted policy', () => {
  let dir: string;
  let policy: WalPolicy;
  let store: WalStore;
  let keyFile: string;
  let fingerprint: string;

  beforeAll(async () => {
    requireAgeTools();
    dir = await mkdtemp(join(tmpdir(), 'pgbackup-encrypted-history-'));
    const key = await generateKeyFile(dir, 'key.txt');
    await chmod(key.path, 0o600);
    keyFile = key.path;
    const publicKey = /# public key: (age1[0-9a-z]+)/.exec(key.text)?.[1] ?? '';
    fingerprint = fingerprintRecipient(publicKey);
    policy = await writeWalPolicy({ hosts: ['127.0.0.1:5432'], name: 'encrypted-history' });
    store = walStoreOf(policy);
    // Segment 3 was being written when encryption was turned on: its plain partial is stored.
    const plainPartial = join(dir, 'plain-partial');
    await writeFile(plainPartial, 'a partial stored before encryption was turned on');
    await store.putFile(`${SEGMENT_3}.zst.partial`, plainPartial, {
      sha256: '0'.repeat(64),
      endLsn: '0/3000200',
    });
    const layout = await prepareSpool(join(dir, 'spool'));
    await writeFile(join(layout.walDir, '00000002.history'), HISTORY);
    const segment = Buffer.alloc(SEGMENT_SIZE);
    segment.write('page images', 0);
    await writeFile(join(layout.walDir, SEGMENT_3), segment);
    await writeFile(join(layout.walDir, SEGMENT_4), segment);
    const uploader = new WalUploader({
      store,
      layout,
      segmentSizeBytes: SEGMENT_SIZE,
      compression: 'zstd',
      encryption: {
        recipients: parseRecipients(publicKey, 'the test key'),
        fingerprints: [fingerprint],
      },
      uploadIntervalMs: 1000,
      clock: Date.now,
      logger: pino({ level: 'silent' }),
      confirmedEnd: async () => undefined,
      knownConfirmedEnd: () => undefined,
    });
    await uploader.loadBucket();
    const pass = await uploader.pass();
    expect(pass.stored).toEqual([
      '00000002.history.age',
      `${SEGMENT_3}.zst.age`,
      `${SEGMENT_4}.zst.age`,
    ]);
  }, 120_000);

  afterAll(async () => {
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  it('stores the history file encrypted, which the stock age decrypts to the file', async () => {
    const { body, recipients, timelineSwitches } = await store.read('00000002.history.age');
    const stored = await buffer(body);
    expect(stored.toString('latin1')).toMatch(/^age-encryption\.org\/v1\n/);
    expect(stored.includes(Buffer.from('no recovery target'))).toBe(false);
    expect(recipients).toEqual([fingerprint]);
    expect(timelineSwitches).toBe('1@0/3000158');
    const decrypted = await runAge(['-d', '-i', keyFile], stored);
    expect(decrypted.code, decrypted.stderr).toBe(0);
    expect(decrypted.stdout.toString('utf8')).toBe(HISTORY);
  });

  it('lets continuity read the switches without the identity', async () => {
    const wal = await readBucketWal(store, SEGMENT_SIZE);
    expect(wal.histories.get(2)).toEqual([
      { parentTimeline: 1, switchLsn: 0x3000158n, reason: '' },
    ]);
  });

  it('deletes the plain partial its encrypted segment supersedes', async () => {
    const names = (await store.list()).map((object) => object.name);
    expect(names).toEqual(['00000002.history.age', `${SEGMENT_3}.zst.age`, `${SEGMENT_4}.zst.age`]);
  });
});
