/**
 * A lock directory that serialises `upEnvironment` callers (env:up, vitest's global setup,
 * benches). The holder writes its pid inside; a lock whose holder died (a killed bench, a
 * Ctrl-C) is taken over instead of blocking everyone until the deadline.
 */
import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/** A lock with no owner file yet is being created; after this long its creator died. */
const ownerlessGraceMs = 10_000;

function holderIsGone(lock: string): boolean {
  try {
    const pid = Number.parseInt(readFileSync(join(lock, 'owner'), 'utf8'), 10);
    process.kill(pid, 0);
    return false;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ESRCH') return true;
    if (code !== 'ENOENT') return false;
    try {
      return Date.now() - statSync(lock).mtimeMs > ownerlessGraceMs;
    } catch {
      return false;
    }
  }
}

function tryAcquire(lock: string): boolean {
  try {
    // The directory may have been removed (env:down) while this process waited.
    mkdirSync(dirname(lock), { recursive: true });
    mkdirSync(lock);
  } catch {
    if (holderIsGone(lock)) rmSync(lock, { recursive: true, force: true });
    return false;
  }
  writeFileSync(join(lock, 'owner'), `${process.pid}\n`);
  return true;
}

/** The lock directory's name inside the directory it guards. */
export const LOCK_NAME = '.lock';

/** Runs `work` holding the lock `<dir>/.lock`. */
export async function withLock<T>(dir: string, work: () => Promise<T>): Promise<T> {
  const lock = join(dir, LOCK_NAME);
  const deadline = Date.now() + 30 * 60_000;
  while (!tryAcquire(lock)) {
    if (Date.now() > deadline) throw new Error(`environment lock ${lock} held for too long`);
    await sleep(500);
  }
  try {
    return await work();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}
