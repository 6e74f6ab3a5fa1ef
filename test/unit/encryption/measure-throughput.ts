/**
 * Measures the age payload's throughput, ours (Node's ChaCha20-Poly1305) against the
 * age-encryption library's own streams (@noble/ciphers, pure JavaScript), on generated data
 * held in memory (no disk, no network): `npx tsx test/unit/encryption/measure-throughput.ts
 * [MiB] [rounds]`. Prints MB/s by wall time and by CPU time (on a shared machine the CPU
 * figure is the steadier one), the median over the rounds, alternating the order. Decryption
 * is timed alone: its input is encrypted beforehand into memory.
 */
import { randomBytes } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Decrypter, Encrypter, generateX25519Identity } from 'age-encryption';
import {
  createAgeDecrypter,
  createAgeEncrypter,
  parseIdentities,
} from '../../../src/encryption/index.js';

const mebibytes = Number(process.argv[2] ?? 1024);
const rounds = Number(process.argv[3] ?? 3);
const PIECE_BYTES = 1024 * 1024;
const piece = randomBytes(PIECE_BYTES);
const totalBytes = mebibytes * PIECE_BYTES;

function* pieces(): Generator<Buffer> {
  for (let index = 0; index < mebibytes; index += 1) yield piece;
}

function counter(): { sink: Writable; bytes: () => number } {
  let bytes = 0;
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      bytes += chunk.length;
      callback();
    },
  });
  return { sink, bytes: () => bytes };
}

async function drainWeb(stream: ReadableStream<Uint8Array>): Promise<number> {
  let bytes = 0;
  for await (const chunk of stream) bytes += chunk.length;
  return bytes;
}

const secretKey = await generateX25519Identity();
const identities = await parseIdentities(secretKey, 'measurement');

/** Bytes processed and the time and CPU it took. */
interface Measured {
  readonly bytes: number;
  readonly wallSeconds: number;
  readonly cpuSeconds: number;
}

async function measure(run: () => Promise<number>): Promise<Measured> {
  const cpuBefore = process.cpuUsage();
  const wallBefore = process.hrtime.bigint();
  const bytes = await run();
  const wallSeconds = Number(process.hrtime.bigint() - wallBefore) / 1e9;
  const cpu = process.cpuUsage(cpuBefore);
  return { bytes, wallSeconds, cpuSeconds: (cpu.user + cpu.system) / 1e6 };
}

async function collect(stream: AsyncIterable<Uint8Array>): Promise<Uint8Array[]> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  return chunks;
}

function ourEncrypter() {
  return createAgeEncrypter(identities);
}

function libraryEncrypter(): Encrypter {
  const encrypter = new Encrypter();
  encrypter.addRecipient(identities[0]?.recipient ?? '');
  return encrypter;
}

function libraryDecrypter(): Decrypter {
  const decrypter = new Decrypter();
  decrypter.addIdentity(secretKey);
  return decrypter;
}

function webSource(): ReadableStream<Uint8Array> {
  return ReadableStream.from(pieces()) as ReadableStream<Uint8Array>;
}

type Case = () => Promise<Measured>;
/** Each decryption case encrypts first, untimed, into memory (about 1 GiB held briefly). */
const cases: Record<string, Case> = {
  'plain (stream plumbing only)': () =>
    measure(async () => {
      const { sink, bytes } = counter();
      await pipeline(Readable.from(pieces()), sink);
      return bytes();
    }),
  'ours: encrypt': async () => {
    const encrypter = await ourEncrypter();
    return measure(async () => {
      const { sink, bytes } = counter();
      await pipeline(Readable.from(pieces()), encrypter, sink);
      return bytes();
    });
  },
  'ours: decrypt': async () => {
    const ciphertext = await collect(Readable.from(pieces()).pipe(await ourEncrypter()));
    return measure(async () => {
      const { sink, bytes } = counter();
      const decrypter = createAgeDecrypter({ identities, object: 'measurement' });
      await pipeline(Readable.from(ciphertext), decrypter, sink);
      return bytes();
    });
  },
  'age-encryption: encrypt': async () => {
    const encrypter = libraryEncrypter();
    return measure(async () => drainWeb(await encrypter.encrypt(webSource())));
  },
  'age-encryption: decrypt': async () => {
    const ciphertext = await collect(await libraryEncrypter().encrypt(webSource()));
    return measure(async () => {
      const source = ReadableStream.from(ciphertext) as ReadableStream<Uint8Array>;
      return drainWeb(await libraryDecrypter().decrypt(source));
    });
  },
};

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

const results: Record<string, { wall: number[]; cpu: number[] }> = {};
for (let round = 0; round < rounds; round += 1) {
  const names = Object.keys(cases);
  if (round % 2 === 1) names.reverse();
  for (const name of names) {
    const run = cases[name];
    if (run === undefined) continue;
    const { bytes, wallSeconds, cpuSeconds } = await run();
    if (Math.abs(bytes - totalBytes) > totalBytes * 0.01)
      throw new Error(`${name}: ${bytes} bytes`);
    const entry = results[name] ?? { wall: [], cpu: [] };
    entry.wall.push(totalBytes / 1e6 / wallSeconds);
    entry.cpu.push(totalBytes / 1e6 / cpuSeconds);
    results[name] = entry;
  }
}

console.log(`${mebibytes} MiB in 1 MiB pieces, ${rounds} rounds, median MB/s (1 MB = 10^6 bytes)`);
for (const [name, { wall, cpu }] of Object.entries(results)) {
  console.log(
    `${name.padEnd(36)} wall ${median(wall).toFixed(0).padStart(6)}  per CPU-second ${median(cpu).toFixed(0).padStart(6)}`,
  );
}
