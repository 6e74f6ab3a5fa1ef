/**
 * What the PostgreSQL tools a run uses accept of a policy's compression settings. The schema
 * checks the ranges; only the run knows the tools' major version, so it decides here, before
 * `pg_basebackup` or `pg_dump` starts, and refuses with the field and the fix instead of the
 * tool's own error halfway through a run.
 *
 * - `pg_basebackup` names client-side compression (`client-zstd:level=N,workers=M`, lz4) from
 *   15 on; before, it writes gzip only (`--compress=N`). It must match the server's major.
 * - `pg_dump` takes `--compress=zstd:level=N` (and lz4) from 16 on; before, gzip levels only.
 *
 * Whether libzstd was built with threads (which `workers` needs) no version tells: the
 * failure of `pg_basebackup` says so, and {@link startBaseBackup}'s error names the field.
 */
import type { BinaryCompressionSettings, DumpCompressionSettings } from '../postgres/index.js';

/** The first `pg_basebackup` major with client-side zstd and lz4 (and zstd workers). */
export const BASEBACKUP_CLIENT_COMPRESSION_MAJOR = 15;

/** The first `pg_dump` major with zstd and lz4 in the custom format. */
export const DUMP_ZSTD_MAJOR = 16;

/** The major version in a tool's `--version` line (`pg_dump (PostgreSQL) 15.10 (Debian ...)`). */
export function majorOfToolVersion(version: string): number | undefined {
  const match = /\(PostgreSQL\)\s+(\d+)(?:\.(\d+))?/.exec(version);
  if (match === null) return undefined;
  const first = Number(match[1]);
  // Before 10, the major was two numbers (9.6).
  return first >= 10 ? first : Number(`${first}.${match[2] ?? 0}`);
}

/** Why this `pg_basebackup` cannot write the policy's compression; undefined when it can. */
export function binaryCompressionRefusal(
  settings: BinaryCompressionSettings,
  toolMajor: number,
): string | undefined {
  if (toolMajor >= BASEBACKUP_CLIENT_COMPRESSION_MAJOR) return undefined;
  if (settings.algorithm !== 'zstd' && settings.algorithm !== 'lz4') return undefined;
  const workers = settings.workers === undefined ? '' : ' with compressionWorkers';
  return `spec.binary.compression ${settings.algorithm}${workers} needs pg_basebackup ${BASEBACKUP_CLIENT_COMPRESSION_MAJOR} or newer, and pg_basebackup must match the server, which is PostgreSQL ${toolMajor}. Set spec.binary.compression to gzip (compressionLevel 1 to 9) or none for this server, or upgrade it to PostgreSQL ${BASEBACKUP_CLIENT_COMPRESSION_MAJOR} or newer`;
}

/** Why this `pg_dump` cannot write the policy's compression; undefined when it can. */
export function dumpCompressionRefusal(
  settings: DumpCompressionSettings,
  toolMajor: number,
  serverMajor: number,
): string | undefined {
  if (toolMajor >= DUMP_ZSTD_MAJOR) return undefined;
  if (settings.algorithm !== 'zstd' && settings.algorithm !== 'lz4') return undefined;
  return `spec.logical.compression ${settings.algorithm} needs pg_dump ${DUMP_ZSTD_MAJOR} or newer, and this PostgreSQL ${serverMajor} server is dumped with pg_dump ${toolMajor} (the runner prefers the server's own version, whose pg_restore reads the dumps). Set spec.logical.compression to gzip (compressionLevel 1 to 9) or none for this server, or upgrade it to PostgreSQL ${DUMP_ZSTD_MAJOR} or newer`;
}

/** The manifest's record of a level and workers asked for; empty when the defaults were used. */
export function compressionSettingsOf(settings: {
  readonly level?: number | undefined;
  readonly workers?: number | undefined;
}): { compressionSettings?: { level?: number; workers?: number } } {
  const recorded = {
    ...(settings.level === undefined ? {} : { level: settings.level }),
    ...(settings.workers === undefined ? {} : { workers: settings.workers }),
  };
  return Object.keys(recorded).length === 0 ? {} : { compressionSettings: recorded };
}
