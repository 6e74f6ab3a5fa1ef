/**
 * What the shared servers logged (they run with log_connections): the databases a run's
 * sessions connected to, found by the application name the runner gives its dumps.
 */
import { readFile } from 'node:fs/promises';
import { logFile } from '../../harness/env/processes.js';
import { requireEnv } from '../../harness/variables.js';

/** The databases `application_name` connected to on a server, in log order. */
export async function loggedConnections(
  role: 'primary' | 'replica',
  applicationName: string,
): Promise<string[]> {
  const log = await readFile(logFile(requireEnv('PGBACKUP_ENV_DIR'), `postgres-${role}`), 'utf8');
  const pattern = /connection authorized: user=\S+ database=(.+) application_name=(\S+)/;
  return log.split('\n').flatMap((line) => {
    const match = pattern.exec(line);
    return match?.[2] === applicationName && match[1] !== undefined ? [match[1]] : [];
  });
}
