/**
 * What the WAL receiver's tests share: a policy file per receiver (test/fixtures/wal/policy.yaml
 * with the test's servers, bucket prefix, name and compression), `pgbackup wal-receive -f` as a
 * child process with a spool and a status file, WAL made quickly on a server (pg_switch_wal),
 * and the bucket's WAL read back: objects, their bytes decompressed, continuity as recovery
 * would see it.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmod, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { buffer, text } from 'node:stream/consumers';
import { setTimeout as sleep } from 'node:timers/promises';
import { gunzipSync, zstdDecompressSync } from 'node:zlib';
import type pg from 'pg';
import { stringify } from 'yaml';
import type { ContinuousStatus } from '../../../src/api/index.js';
import { assessWalContinuity, type WalContinuity } from '../../../src/retention/wal-continuity.js';
import {
  formatLsn,
  parseLsn,
  parseWalFileName,
  type TimelineSwitch,
} from '../../../src/retention/wal-names.js';
import { createWalStore, type WalStore, walKeyPrefix } from '../../../src/storage/index.js';
import { readStoredHistory } from '../../../src/wal/bucket-wal.js';
import { fixtureYaml } from '../../harness/fixtures.js';
import {
  type RunOutcome,
  runEnvironment,
  runPgbackup,
  type StartedRun,
  startPgbackup,
} from '../../harness/pgbackup-run.js';
import { withClient } from '../../harness/postgres.js';
import type { RestoredServer } from '../../harness/restore.js';
import { testBucket, testPrefix } from '../../harness/s3.js';
import { requireEnv, uniqueSuffix } from '../../harness/variables.js';
import { hostOf, type ScratchPair, startScratchPair } from '../logical/scratch-pair.js';

/** The segment size of the test servers (initdb's default). */
export const SEGMENT_SIZE = 16 * 1024 * 1024;

/** A loopback address of the environment's subnet (each test file takes its own). */
export function walTestHost(lastOctet: number): string {
  return `${process.env.PGBACKUP_ENV_SUBNET ?? '127.0.0'}.${lastOctet}`;
}

/** A receiver's policy file and where its WAL goes. */
export interface WalPolicy {
  readonly file: string;
  readonly name: string;
  readonly namespace: string;
  readonly prefix: string;
  readonly bucket: string;
  /** The directory holding the file, the spool and the status file. */
  readonly dir: string;
}

interface PolicyDocument {
  metadata: { name: string; namespace: string };
  spec: {
    target: { hosts: string[] };
    continuous: Record<string, unknown>;
    storage: { s3: Record<string, unknown>; encryption?: Record<string, unknown> };
    [field: string]: unknown;
  };
}

/** What a test's policy differs in. */
export interface WalPolicyInput {
  readonly hosts: readonly string[];
  readonly name?: string;
  readonly compression?: 'zstd' | 'gzip' | 'lz4' | 'none';
  /** The S3 endpoint: MinIO's, or a fault proxy's. */
  readonly endpoint?: string;
  readonly uploadInterval?: string;
  /** `spec.continuous.window` (default the fixture's: 7d). */
  readonly window?: string;
  /** `spec.storage.encryption`: the public keys (`age1…`), inline; the identity's Secret is named. */
  readonly recipients?: readonly string[];
}

/** Writes the fixture with the test's values. */
export async function writeWalPolicy(input: WalPolicyInput): Promise<WalPolicy> {
  const policy = fixtureYaml<PolicyDocument>('wal/policy.yaml');
  const name = input.name ?? `orders-${uniqueSuffix()}`;
  const prefix = testPrefix();
  policy.metadata.name = name;
  policy.spec.target.hosts = [...input.hosts];
  policy.spec.continuous.compression = input.compression ?? 'zstd';
  if (input.uploadInterval !== undefined) {
    policy.spec.continuous.uploadInterval = input.uploadInterval;
  }
  if (input.window !== undefined) policy.spec.continuous.window = input.window;
  if (input.recipients !== undefined) {
    policy.spec.storage.encryption = {
      recipients: input.recipients.map((publicKey) => ({ publicKey })),
      identity: { secretKeyRef: { name: `${name}-identity`, key: 'key.txt' } },
    };
  }
  Object.assign(policy.spec.storage.s3, {
    bucket: testBucket(),
    prefix,
    endpoint: input.endpoint ?? requireEnv('PGBACKUP_S3_ENDPOINT'),
    region: requireEnv('AWS_REGION'),
    forcePathStyle: true,
  });
  const dir = await mkdtemp(join(tmpdir(), 'pgbackup-wal-'));
  const file = join(dir, 'policy.yaml');
  await writeFile(file, stringify(policy));
  return { file, name, namespace: policy.metadata.namespace, prefix, bucket: testBucket(), dir };
}

/**
 * The environment of a receiver against scratch servers: the superuser logs in for SQL and
 * replication (scratch servers have no replication role).
 */
export const SCRATCH_RECEIVER_ENV = {
  PGBACKUP_REPLICATION_USER: undefined,
  PGBACKUP_REPLICATION_PASSWORD: undefined,
} as const;

/** A running `pgbackup wal-receive -f`. */
export interface StartedReceiver extends StartedRun {
  readonly spool: string;
  readonly statusFile: string;
  /** The status file, or undefined before the first write. */
  status(): Promise<ContinuousStatus | undefined>;
  /** SIGTERM, then the outcome. */
  stop(): Promise<RunOutcome>;
}

/** Starts a receiver on the policy; its spool and status file live beside the policy file. */
export function startReceiver(
  policy: WalPolicy,
  env: Readonly<Record<string, string | undefined>> = SCRATCH_RECEIVER_ENV,
  extraArgs: readonly string[] = [],
): StartedReceiver {
  const spool = join(policy.dir, 'spool');
  const statusFile = join(policy.dir, 'status.json');
  const run = startPgbackup(
    [
      'wal-receive',
      '-f',
      policy.file,
      '--spool',
      spool,
      '--status-file',
      statusFile,
      '--status-interval',
      '1',
      ...extraArgs,
    ],
    runEnvironment(env),
  );
  return {
    ...run,
    spool,
    statusFile,
    status: async () => {
      const textRead = await readFile(statusFile, 'utf8').catch(() => undefined);
      return textRead === undefined ? undefined : (JSON.parse(textRead) as ContinuousStatus);
    },
    stop: () => {
      run.child.kill('SIGTERM');
      return run.outcome;
    },
  };
}

/** Polls `probe` until it returns a value (not undefined/false), or fails after `timeoutMs`. */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined | false>,
  timeoutMs: number,
  receiver?: StartedRun,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      last = error;
    }
    if (receiver !== undefined && receiver.child.exitCode !== null) {
      const outcome = await receiver.outcome;
      throw new Error(
        `the receiver exited (${outcome.code}) while waiting for ${what}:\n${outcome.stderr.slice(-4000)}`,
      );
    }
    await sleep(250);
  }
  throw new Error(
    `timed out after ${timeoutMs} ms waiting for ${what}${last === undefined ? '' : ` (last error: ${String(last)})`}`,
  );
}

/** Waits (60 s at most) until the receiver reports Streaming. */
export async function waitStreaming(receiver: StartedReceiver): Promise<void> {
  await waitFor(
    'Streaming',
    async () => (await receiver.status())?.state === 'Streaming',
    60_000,
    receiver,
  );
}

/** The policy's WAL store, as the receiver writes it. */
export function walStoreOf(policy: WalPolicy): WalStore {
  return createWalStore(
    {
      bucket: policy.bucket,
      region: requireEnv('AWS_REGION'),
      endpoint: requireEnv('PGBACKUP_S3_ENDPOINT'),
      forcePathStyle: true,
      credentialsSource: 'the environment',
    },
    walKeyPrefix({ prefix: policy.prefix, namespace: policy.namespace, policy: policy.name }),
  );
}

/** Makes `segments` segments of WAL on the server and closes each (pg_switch_wal). */
export async function makeWal(client: pg.Client, segments: number): Promise<void> {
  await client.query('CREATE TABLE IF NOT EXISTS wal_filler (id serial, payload text)');
  for (let index = 0; index < segments; index += 1) {
    await client.query(
      'INSERT INTO wal_filler (payload) SELECT repeat(md5(random()::text), 20) FROM generate_series(1, 2000)',
    );
    await client.query('SELECT pg_switch_wal()');
  }
}

/** The server's current WAL position. */
export async function currentLsn(client: pg.Client): Promise<bigint> {
  const result = await client.query<{ lsn: string }>('SELECT pg_current_wal_lsn()::text AS lsn');
  return parseLsn(result.rows[0]?.lsn ?? '') ?? 0n;
}

/**
 * A stored object's bytes decompressed (an encrypted one first decrypted by the stock `age -d`
 * with `identityFile`), and whether its `sha256` metadata matches what is stored.
 */
export async function readWalObject(
  store: WalStore,
  name: string,
  identityFile?: string,
): Promise<{ bytes: Buffer; stored: Buffer; sha256Matches: boolean }> {
  const { body, sha256 } = await store.read(name);
  const stored = await buffer(body);
  const actual = createHash('sha256').update(stored).digest('hex');
  const plain = name.endsWith('.age') ? await ageDecrypt(stored, identityFile) : stored;
  return {
    bytes: await decompress(name.replace(/\.age$/, ''), plain),
    stored,
    sha256Matches: actual === sha256,
  };
}

/** `age -d -i FILE` (Debian's age) of `stored`; throws when it fails. */
async function ageDecrypt(stored: Buffer, identityFile: string | undefined): Promise<Buffer> {
  if (identityFile === undefined) throw new Error('an encrypted object needs an identity file');
  const child = spawn('age', ['-d', '-i', identityFile], { stdio: ['pipe', 'pipe', 'pipe'] });
  child.stdin.end(stored);
  const [plain, errors, code] = await Promise.all([
    buffer(child.stdout),
    text(child.stderr),
    new Promise<number | null>((resolve) => child.on('close', resolve)),
  ]);
  if (code !== 0) throw new Error(`age -d failed (${code}): ${errors}`);
  return plain;
}

async function decompress(name: string, stored: Buffer): Promise<Buffer> {
  const plain = name.replace(/\.partial$/, '');
  if (plain.endsWith('.zst')) return zstdDecompressSync(stored);
  if (plain.endsWith('.gz')) return gunzipSync(stored);
  if (plain.endsWith('.lz4')) return lz4Decompress(stored);
  return stored;
}

async function lz4Decompress(stored: Buffer): Promise<Buffer> {
  const child = spawn('lz4', ['-d', '-c'], { stdio: ['pipe', 'pipe', 'inherit'] });
  child.stdin.end(stored);
  return buffer(child.stdout);
}

/** The bucket's WAL as recovery reads it (the end-lsn of partials and the history files). */
export async function bucketContinuity(store: WalStore): Promise<WalContinuity> {
  const objects = await store.list();
  const histories = new Map<number, readonly TimelineSwitch[]>();
  const files: { name: string; endLsn?: bigint | undefined }[] = [];
  for (const object of objects) {
    const parsed = parseWalFileName(object.name, SEGMENT_SIZE);
    if (parsed?.kind === 'history') {
      histories.set(parsed.timeline, await readStoredHistory(store, parsed));
    }
    const endLsn =
      parsed?.kind === 'segment' && parsed.partial
        ? parseLsn((await store.head(object.name))?.endLsn ?? '')
        : undefined;
    files.push({ name: object.name, endLsn });
  }
  return assessWalContinuity({ files, histories, segmentSize: SEGMENT_SIZE });
}

/** The names of the bucket's WAL objects. */
export async function walNames(store: WalStore): Promise<string[]> {
  return (await store.list()).map((object) => object.name);
}

/** The status lines (`"state":...`) the receiver logged, in order. */
export function loggedStates(stderr: string): string[] {
  return stderr.split('\n').flatMap((line) => {
    const match = /"state":"([A-Za-z]+)"/.exec(line);
    return match === null ? [] : [match[1] ?? ''];
  });
}

/** Peak resident memory (VmHWM) of a process, in bytes; undefined once it is gone. */
export async function peakRssBytes(pid: number): Promise<number | undefined> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => undefined);
  const match = status === undefined ? null : /VmHWM:\s+(\d+) kB/.exec(status);
  return match === null ? undefined : Number(match[1]) * 1024;
}

/** A marker row: committed at `micros` (clock_timestamp()), its commit before `lsnAfter`. */
export interface Marker {
  readonly id: string;
  /** clock_timestamp() of the insert, microseconds since the epoch. */
  readonly micros: number;
  /** The server's insert position right after the commit: past its commit record. */
  readonly lsnAfter: string;
}

/**
 * A primary and replica streaming into the bucket through a receiver (file mode), with a
 * `marker` table on the primary: what the point-in-time tests (restore, drill, failure cases)
 * start from.
 */
export interface MarkedReceiver {
  readonly pair: ScratchPair;
  readonly policy: WalPolicy;
  readonly receiver: StartedReceiver;
  /** Commits a marker every 100 ms on `server` (default the primary) into `into` until stopped. */
  startMarkers(into: Marker[], server?: RestoredServer): () => Promise<void>;
  /** A binary backup of the daily line in file mode, triggered at `at`; fails the test on error. */
  binaryBackup(at: string): Promise<void>;
  /** Switches WAL on `server` (default the primary) and waits until the bucket holds it. */
  waitArchived(server?: RestoredServer): Promise<void>;
  stop(): Promise<void>;
}

/** Commits a marker every 100 ms on `server` until the returned function is called. */
function markEvery100Ms(server: RestoredServer, markers: Marker[]): () => Promise<void> {
  let running = true;
  const done = (async () => {
    const client = server.client('postgres');
    await client.connect();
    try {
      while (running) {
        const result = await client.query<{ id: string; micros: string }>(
          'INSERT INTO marker (at) VALUES (clock_timestamp()) RETURNING id::text, (extract(epoch FROM at) * 1000000)::bigint::text AS micros',
        );
        const after = await client.query<{ lsn: string }>(
          'SELECT pg_current_wal_insert_lsn()::text AS lsn',
        );
        const row = result.rows[0];
        if (row !== undefined) {
          markers.push({
            id: row.id,
            micros: Number(row.micros),
            lsnAfter: after.rows[0]?.lsn ?? '',
          });
        }
        await sleep(100);
      }
    } finally {
      await client.end();
    }
  })();
  return async () => {
    running = false;
    await done;
  };
}

/**
 * Starts a scratch primary and replica on the subnet's `octets`, a policy on them
 * (`policy`'s settings, upload interval 1 s unless given) that the postgres user can read,
 * the `marker` table, and a receiver streaming into the bucket.
 */
export async function startMarkedReceiver(input: {
  readonly octets: { readonly primary: number; readonly replica: number };
  readonly policy: Omit<WalPolicyInput, 'hosts'>;
}): Promise<MarkedReceiver> {
  const pair = await startScratchPair({
    primary: walTestHost(input.octets.primary),
    replica: walTestHost(input.octets.replica),
  });
  const policy = await writeWalPolicy({
    uploadInterval: '1s',
    ...input.policy,
    hosts: [hostOf(pair.primary), hostOf(pair.replica)],
  });
  // Restores and wal-fetch run as postgres: they read the policy file.
  await chmod(dirname(policy.file), 0o755);
  await chmod(policy.file, 0o644);
  await withClient(pair.primary.client('postgres'), (client) =>
    client.query('CREATE TABLE marker (id bigserial PRIMARY KEY, at timestamptz NOT NULL)'),
  );
  const receiver = startReceiver(policy);
  await waitStreaming(receiver);
  const env = runEnvironment(SCRATCH_RECEIVER_ENV);
  return {
    pair,
    policy,
    receiver,
    startMarkers: (into, server = pair.primary) => markEvery100Ms(server, into),
    binaryBackup: async (at) => {
      const run = await runPgbackup(
        ['--type', 'binary', '--line', 'daily', '-f', policy.file, '--at', at],
        env,
      );
      if (run.code !== 0) throw new Error(`the binary backup failed (${run.code}):\n${run.stderr}`);
    },
    waitArchived: async (server = pair.primary) => {
      const lsn = await withClient(server.client('postgres'), async (client) => {
        await client.query('SELECT pg_switch_wal()');
        return currentLsn(client);
      });
      await waitFor(
        `the bucket reaching ${formatLsn(lsn)}`,
        async () => ((await bucketContinuity(walStoreOf(policy))).newestLsn ?? 0n) >= lsn,
        60_000,
        receiver,
      );
    },
    stop: async () => {
      await receiver.stop();
      await pair.stop();
    },
  };
}
