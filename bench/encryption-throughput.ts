/**
 * bench/encryption-throughput: what src/encryption's age encrypter costs on its own — CPU
 * seconds per GiB streamed through createAgeEncrypter (Node's ChaCha20-Poly1305, 64 KiB
 * chunks), against the same stream without it, in this process (no servers).
 *
 *   npx tsx bench/encryption-throughput.ts          # 1 GiB in 64 KiB writes, 3 rounds
 *   BENCH_MIB=256 BENCH_ROUNDS=5 npx tsx bench/encryption-throughput.ts
 */
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createAgeEncrypter, parseRecipients } from '../src/encryption/index.js';
import { loadText } from './cpu-seconds.js';
import { newRecipient } from './peers/encryption.js';
import { median } from './wal-lag.js';

const MIB = Number(process.env.BENCH_MIB ?? 1024);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
/** What pg_basebackup's pipe hands the runner at a time. */
const WRITE_BYTES = 64 * 1024;

function source(): Readable {
  const chunk = Buffer.alloc(WRITE_BYTES, 0x5a);
  const count = (MIB * 2 ** 20) / WRITE_BYTES;
  return Readable.from(
    (function* () {
      for (let index = 0; index < count; index += 1) yield chunk;
    })(),
  );
}

/** CPU seconds of streaming MIB through `transforms` into a sink that drops it. */
async function cpuSeconds(transforms: NodeJS.ReadWriteStream[]): Promise<number> {
  const sink = new Writable({ write: (_chunk, _encoding, done) => done() });
  const before = process.cpuUsage();
  await pipeline([source(), ...transforms, sink]);
  const used = process.cpuUsage(before);
  return (used.user + used.system) / 1e6;
}

const recipients = parseRecipients(await newRecipient(), 'the bench');
const plain: number[] = [];
const encrypted: number[] = [];
for (let round = 0; round < ROUNDS; round += 1) {
  plain.push(await cpuSeconds([]));
  encrypted.push(await cpuSeconds([await createAgeEncrypter(recipients)]));
}
const perGib = (seconds: number) => (seconds * 1024) / MIB;
const added = median(encrypted) - median(plain);
console.log(
  `bench/encryption-throughput: ${MIB} MiB in ${WRITE_BYTES / 1024} KiB writes, medians of ${ROUNDS}: CPU s per GiB plain ${perGib(median(plain)).toFixed(2)}, encrypted ${perGib(median(encrypted)).toFixed(2)}; the encrypter adds ${perGib(added).toFixed(2)} CPU s per GiB (${(MIB / added).toFixed(0)} MiB per CPU second); load ${loadText()}`,
);
