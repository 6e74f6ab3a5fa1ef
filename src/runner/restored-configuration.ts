/**
 * What a restored data directory brings of the source's configuration: `postgresql.conf` and
 * `pg_hba.conf` only if the source kept them in its data directory (Debian keeps them in
 * /etc/postgresql), and `postgresql.auto.conf` (ALTER SYSTEM), whose settings are the source's
 * and may not suit a copy started beside it (an archive_command, a primary_conninfo).
 */
import { access, readFile } from 'node:fs/promises';
import { join } from 'node:path';

/** The files PostgreSQL reads from its data directory by default and will not start without. */
export const REQUIRED_CONFIGURATION_FILES = ['postgresql.conf', 'pg_hba.conf'] as const;

/** What the restored data directory holds of the source's configuration. */
export interface RestoredConfiguration {
  /** Those of {@link REQUIRED_CONFIGURATION_FILES} the backup lacks. */
  readonly missingFiles: readonly string[];
  /** The names of the settings postgresql.auto.conf sets (never their values: one may hold a password). */
  readonly autoSettings: readonly string[];
}

/**
 * The names of the settings a configuration file sets, in order, each once: `name = value`
 * or `name value` lines, comments and blank lines skipped.
 */
export function settingNamesOf(text: string): string[] {
  const names = text.split('\n').flatMap((line) => {
    const match = /^\s*([A-Za-z_][\w.-]*)\s*(=|\s)/.exec(line);
    return match?.[1] === undefined ? [] : [match[1].toLowerCase()];
  });
  return [...new Set(names)];
}

async function readIfPresent(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    if (error instanceof Error && 'code' in error && error.code === 'ENOENT') return undefined;
    throw error;
  }
}

/** Looks at the configuration files of a restored data directory. */
export async function inspectRestoredConfiguration(
  dataDir: string,
): Promise<RestoredConfiguration> {
  const missingFiles: string[] = [];
  for (const file of REQUIRED_CONFIGURATION_FILES) {
    const present = await access(join(dataDir, file)).then(
      () => true,
      () => false,
    );
    if (!present) missingFiles.push(file);
  }
  const auto = await readIfPresent(join(dataDir, 'postgresql.auto.conf'));
  return { missingFiles, autoSettings: auto === undefined ? [] : settingNamesOf(auto) };
}
