/**
 * The second half of the restore drill: `pg_amcheck --all --install-missing` against the
 * throwaway server, which checks every table's heap pages and every B-tree index of every
 * database (amcheck is installed in the restored copy only). Its verbose lines are counted so
 * the result says how much it checked.
 */
import type { ThrowawayServer } from '../postgres/throwaway-server.js';
import { lastLines } from '../postgres/tool-process.js';
import { RunError } from './errors.js';
import { VerificationError } from './verify-errors.js';
import { runProgram } from './verify-programs.js';

/** pg_amcheck's exit status when it found corruption (1 is any other failure). */
const CORRUPTION_FOUND = 2;

/** What pg_amcheck checked. */
export interface AmcheckCounts {
  databases: number;
  tables: number;
  indexes: number;
}

/** Counts one line of pg_amcheck's verbose stderr. */
export function countAmcheckLine(counts: AmcheckCounts, line: string): void {
  if (/including database "/.test(line)) counts.databases += 1;
  else if (/checking heap table "/.test(line)) counts.tables += 1;
  else if (/checking btree index "/.test(line)) counts.indexes += 1;
}

/** `12 tables and 20 indexes in 3 databases`. */
export function describeCounts(counts: AmcheckCounts): string {
  const plural = (count: number, noun: string) => `${count} ${noun}${count === 1 ? '' : 's'}`;
  return `${plural(counts.tables, 'table')} and ${counts.indexes} ${counts.indexes === 1 ? 'index' : 'indexes'} in ${plural(counts.databases, 'database')}`;
}

async function isSuperuser(server: ThrowawayServer, role: string): Promise<boolean> {
  const client = server.client(role, 'template1');
  try {
    await client.connect();
    const result = await client.query<{ rolsuper: boolean }>(
      'SELECT rolsuper FROM pg_roles WHERE rolname = current_user',
    );
    return result.rows[0]?.rolsuper === true;
  } catch {
    // No such role, or it may not log in: try the next one.
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * The first of `candidates` that is a superuser in the restored server: pg_amcheck needs one
 * to install amcheck and read every relation. The server trusts local connections, so no
 * password is needed, but the role must exist in the backup.
 *
 * @throws RunError when none is
 */
export async function findSuperuser(
  server: ThrowawayServer,
  candidates: readonly string[],
): Promise<string> {
  const roles = [...new Set(candidates)];
  for (const role of roles) {
    if (await isSuperuser(server, role)) return role;
  }
  throw new RunError(
    `none of the roles ${roles.map((role) => `"${role}"`).join(', ')} is a superuser that can log in to the restored server; pg_amcheck needs one. Give the policy's credentials a superuser (e.g. postgres), or run pgbackup verify -f with PGUSER set to one`,
  );
}

/**
 * Runs pg_amcheck on every database of the server.
 *
 * @returns what it checked
 * @throws VerificationError when it found corruption or could not check
 */
export async function runAmcheck(
  binary: string,
  server: ThrowawayServer,
  role: string,
): Promise<AmcheckCounts> {
  const counts: AmcheckCounts = { databases: 0, tables: 0, indexes: 0 };
  const outcome = await runProgram(
    binary,
    [
      '--all',
      '--install-missing',
      `--host=${server.socketDir}`,
      `--port=${server.port}`,
      `--username=${role}`,
      '--no-password',
      '--verbose',
    ],
    (line) => countAmcheckLine(counts, line),
  );
  if (outcome.status === CORRUPTION_FOUND) {
    throw new VerificationError(
      `pg_amcheck found corruption in the restored backup (it checked ${describeCounts(counts)}):\n${lastLines(outcome.stdout, 20)}`,
    );
  }
  if (outcome.status !== 0) {
    throw new VerificationError(
      `pg_amcheck could not check the restored backup (${outcome.exit}):\n${lastLines(`${outcome.stdout}\n${outcome.stderr}`, 10)}`,
    );
  }
  return counts;
}
