/** The PostgreSQL client tools the image carries, by major version. */
import { access, constants, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { ToolNotFoundError } from './errors.js';

/** Where Debian's packages install each major version's tools: `<root>/<major>/bin`. */
export const DEFAULT_PG_ROOT = '/usr/lib/postgresql';

/** What {@link locatePgTool} needs. */
export interface LocateToolInput {
  readonly tool:
    | 'pg_basebackup'
    | 'pg_dump'
    | 'pg_dumpall'
    | 'pg_restore'
    | 'pg_verifybackup'
    | 'pg_amcheck'
    | 'pg_receivewal'
    | 'pg_waldump'
    | 'initdb'
    | 'postgres';
  readonly major: number;
  /** Directory holding `<major>/bin/<tool>`; when undefined, {@link DEFAULT_PG_ROOT}. */
  readonly root?: string | undefined;
  /**
   * Accept a newer major version when the server's own is missing (pg_dump reads older
   * servers; pg_basebackup must match). The server's own version is still preferred, so the
   * dump restores with that version's pg_restore, then the oldest newer one.
   */
  readonly orNewer?: boolean;
}

async function isExecutable(path: string): Promise<boolean> {
  return access(path, constants.X_OK).then(
    () => true,
    () => false,
  );
}

/** The tool of the oldest newer major under the root that carries it. */
async function oldestNewerTool(root: string, input: LocateToolInput): Promise<string | undefined> {
  const entries = await readdir(root).catch(() => [] as string[]);
  const majors = entries
    .filter((entry) => /^\d+$/.test(entry) && Number(entry) > input.major)
    .sort((a, b) => Number(a) - Number(b));
  for (const major of majors) {
    const path = join(root, major, 'bin', input.tool);
    if (await isExecutable(path)) return path;
  }
  return undefined;
}

/**
 * The path of a tool of the server's major version: a newer or older tool would either refuse
 * the server or write a backup the server's own version cannot restore. With `orNewer`, the
 * oldest newer version stands in when the server's own is missing.
 *
 * @throws ToolNotFoundError naming the version, the path looked at and what to do
 */
export async function locatePgTool(input: LocateToolInput): Promise<string> {
  const root = input.root ?? DEFAULT_PG_ROOT;
  const path = join(root, String(input.major), 'bin', input.tool);
  if (await isExecutable(path)) return path;
  const newer = input.orNewer === true ? await oldestNewerTool(root, input) : undefined;
  if (newer !== undefined) return newer;
  const wanted = input.orNewer === true ? `${input.major} or newer` : String(input.major);
  // The server is only in the restore drill's image (the Dockerfile's drill target).
  const image =
    input.tool === 'postgres' || input.tool === 'initdb'
      ? `the restore drill's image (the release's tag + "-drill", the controller's --verify-image), which carries PostgreSQL ${input.major}'s server`
      : input.tool === 'pg_waldump'
        ? `an image that carries PostgreSQL ${input.major}'s pg_waldump (Debian ships it with the server package; the runner and drill images carry it)`
        : `a runner image that carries PostgreSQL ${input.major}'s client tools`;
  throw new ToolNotFoundError(
    `no ${input.tool} for PostgreSQL ${wanted}: ${path} does not exist or is not executable. Use ${image}, or point --pg-root at a directory holding ${input.major}/bin/${input.tool}`,
  );
}
