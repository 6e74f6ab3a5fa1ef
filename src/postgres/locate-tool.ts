/** The PostgreSQL client tools the image carries, by major version. */
import { access, constants } from 'node:fs/promises';
import { join } from 'node:path';
import { ToolNotFoundError } from './errors.js';

/** Where Debian's packages install each major version's tools: `<root>/<major>/bin`. */
export const DEFAULT_PG_ROOT = '/usr/lib/postgresql';

/** What {@link locatePgTool} needs. */
export interface LocateToolInput {
  readonly tool: 'pg_basebackup' | 'pg_dump' | 'pg_dumpall';
  readonly major: number;
  /** Directory holding `<major>/bin/<tool>`; default {@link DEFAULT_PG_ROOT}. */
  readonly root?: string;
}

/**
 * The path of a tool of the server's major version: a newer or older tool would either refuse
 * the server or write a backup the server's own version cannot restore.
 *
 * @throws ToolNotFoundError naming the version, the path looked at and what to do
 */
export async function locatePgTool(input: LocateToolInput): Promise<string> {
  const root = input.root ?? DEFAULT_PG_ROOT;
  const path = join(root, String(input.major), 'bin', input.tool);
  try {
    await access(path, constants.X_OK);
  } catch (error) {
    throw new ToolNotFoundError(
      `no ${input.tool} for PostgreSQL ${input.major}: ${path} does not exist or is not executable. Use a runner image that carries PostgreSQL ${input.major}'s client tools, or point --pg-root at a directory holding ${input.major}/bin/${input.tool}`,
      { cause: error },
    );
  }
  return path;
}
