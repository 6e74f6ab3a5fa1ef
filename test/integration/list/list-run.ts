/** `pgbackup list` as a subprocess, as a person runs it, and the catalog a test reads back itself. */
import type { BackupManifest } from '../../../src/storage/index.js';
import { type RunOutcome, runEnvironment, startPgbackup } from '../../harness/pgbackup-run.js';
import { listCommitted, readObjectText } from '../binary/policy-file.js';

/** Runs `pgbackup list ARGS` to the end. */
export function runList(
  args: readonly string[],
  env: NodeJS.ProcessEnv = runEnvironment(),
): Promise<RunOutcome> {
  return startPgbackup(['list', ...args], env).outcome;
}

/** The rows of the text output (the header aside), split into their cells. */
export function rowsOf(stdout: string): string[][] {
  const [, ...rows] = stdout.trimEnd().split('\n');
  return rows.map((row) => row.split(/\s{3,}/));
}

/** The header's column names. */
export function headerOf(stdout: string): string[] {
  return (stdout.split('\n')[0] ?? '').trim().split(/\s+/);
}

/** A committed backup as the test reads it from the bucket itself. */
export interface StoredBackup {
  readonly key: string;
  readonly manifest: BackupManifest;
}

/** The committed backups under a prefix, read with the test's own S3 client. */
export async function readCommitted(prefix: string): Promise<StoredBackup[]> {
  const keys = await listCommitted(prefix);
  return Promise.all(
    keys.map(async (key) => ({
      key,
      manifest: JSON.parse(await readObjectText(`${key}manifest.json`)) as BackupManifest,
    })),
  );
}

/** `2026-03-02T01:30:04.120Z` as the text output writes it: `2026-03-02 01:30:04Z`. */
export function asListed(instant: string): string {
  return instant.replace('T', ' ').replace(/\.\d+Z$/, 'Z');
}
