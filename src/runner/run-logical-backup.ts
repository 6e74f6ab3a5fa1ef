/**
 * A logical backup: the globals and one `pg_dump -Fc` per database, from the most caught-up
 * replica (or the primary, when the policy allows it and no replica is available). The rest
 * of the run is the shared path.
 */
import { formatEndpoint } from '../postgres/index.js';
import { compressionSettingsOf } from './compression-support.js';
import { dumpDatabases } from './dump-databases.js';
import { findDumpSource } from './dump-source.js';
import { type BackupKind, runBackup } from './run-backup.js';
import type { RunInput, RunResult } from './run-types.js';

/** How the custom-format dumps are compressed, as the manifest says; globals.sql is plain SQL. */
function compressionOf(algorithm: string): string {
  return `pg_dump custom format (${algorithm})`;
}

function logicalKind(input: RunInput): BackupKind {
  return {
    type: 'logical',
    findSource: () =>
      findDumpSource({
        endpoints: input.endpoints,
        credentials: input.credentials,
        selection: input.selection,
        fallbackToPrimary: input.spec.logical.fallbackToPrimary,
      }),
    take: async (source, target) => {
      if (source.note !== undefined) input.logger.warn(source.note);
      input.logger.info(
        { server: formatEndpoint(source.session.endpoint), role: source.role, key: target.key },
        'dumping',
      );
      const dumped = await dumpDatabases(input, source.session, target);
      const { compression, compressionLevel } = input.spec.logical;
      return {
        ...dumped,
        compression: compressionOf(compression),
        ...compressionSettingsOf({ level: compressionLevel }),
      };
    },
  };
}

/**
 * Runs one logical backup of a line (or on demand): see {@link runBackup}.
 *
 * @throws RunError, PostgresError or StorageError with a message a person can act on; nothing
 *   is deleted then.
 */
export function runLogicalBackup(input: RunInput): Promise<RunResult> {
  return runBackup(input, logicalKind(input));
}
