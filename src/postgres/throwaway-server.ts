/**
 * A throwaway PostgreSQL server on a restored data directory, for the restore drill: no TCP
 * listener (a Unix socket in a private directory only), trust for local connections through
 * an `pg_hba.conf` of its own, and settings that keep a big primary's configuration from
 * stopping it here (shared memory, preloaded libraries, TLS files, a logging collector). It
 * replays the backup's WAL on start; it accepts connections only once that recovery is done.
 */
import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { access, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { PostgresError } from './errors.js';
import { describeExit, lastLines, toolEnvironment } from './tool-process.js';

/** The port number only names the socket file (`.s.PGSQL.5432`): nothing listens on TCP. */
const SOCKET_PORT = 5432;
/** How much of the server's log an error quotes. */
const LOG_TAIL_LINES = 15;

/** What {@link startThrowawayServer} needs. */
export interface ThrowawayServerInput {
  /** The `postgres` program of the backup's major version. */
  readonly postgres: string;
  /** The restored data directory (mode 0700, owned by this process's user). */
  readonly dataDir: string;
  /** An empty private directory for the socket, the server's log and its `pg_hba.conf`. */
  readonly runDir: string;
  /** How long recovery and start-up may take. */
  readonly startTimeoutMs: number;
}

/** A running throwaway server. */
export interface ThrowawayServer {
  /** The directory holding the socket: libpq's and pg's `host`. */
  readonly socketDir: string;
  readonly port: number;
  /** The server's log file. */
  readonly logFile: string;
  /** A client of `database` as `user` (trust: no password); the caller connects and ends it. */
  client(user: string, database: string): pg.Client;
  /** The last lines of the server's log. */
  logTail(): Promise<string>;
  /** Stops the server (fast shutdown) and waits until it exited. */
  stop(): Promise<void>;
}

/** Settings given on the command line, which win over the restored postgresql.conf. */
export function throwawaySettings(runDir: string): string[] {
  return [
    'listen_addresses=',
    `unix_socket_directories=${runDir}`,
    `port=${SOCKET_PORT}`,
    `hba_file=${join(runDir, 'pg_hba.conf')}`,
    `ident_file=${join(runDir, 'pg_ident.conf')}`,
    'archive_mode=off',
    'hot_standby=off',
    // The image carries no third-party extensions; a primary's preload list would stop it.
    'shared_preload_libraries=',
    // A primary sized for its host would not start in a runner pod.
    'shared_buffers=128MB',
    'huge_pages=off',
    // In the work volume rather than /dev/shm, which a pod keeps small.
    'dynamic_shared_memory_type=mmap',
    // The primary's certificate files are not part of the backup.
    'ssl=off',
    'logging_collector=off',
    'log_destination=stderr',
    'jit=off',
    'autovacuum=off',
    // The copy is thrown away: durability buys nothing here.
    'fsync=off',
    'cluster_name=pgbackup-verify',
  ];
}

function codeOf(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'code' in error
    ? String(error.code)
    : undefined;
}

/**
 * Whether a connection attempt's failure still means "not up yet": no socket, refused, or the
 * server starting up or in recovery (57P03). Any other answer (an unknown role, say) comes from
 * a server that accepts connections.
 */
export function isStartingUp(error: unknown): boolean {
  const code = codeOf(error);
  return code === undefined || code === '57P03' || code === 'ENOENT' || code === 'ECONNREFUSED';
}

async function ensureFile(path: string, text: string): Promise<void> {
  await access(path).catch(() => writeFile(path, text, { mode: 0o600 }));
}

async function tailOf(path: string): Promise<string> {
  return lastLines(await readFile(path, 'utf8').catch(() => ''), LOG_TAIL_LINES);
}

/**
 * Starts the server and waits until it accepts connections.
 *
 * @throws PostgresError quoting the server's log when it exits or does not accept connections in time
 */
export async function startThrowawayServer(input: ThrowawayServerInput): Promise<ThrowawayServer> {
  const { dataDir, runDir } = input;
  // Where a packaged server keeps its configuration outside the data directory, the backup
  // has none; the command line holds everything the drill needs.
  await ensureFile(join(dataDir, 'postgresql.conf'), '');
  await writeFile(join(runDir, 'pg_hba.conf'), 'local all all trust\n', { mode: 0o600 });
  await writeFile(join(runDir, 'pg_ident.conf'), '', { mode: 0o600 });
  const logFile = join(runDir, 'postgres.log');
  const log = openSync(logFile, 'a', 0o600);
  const settings = throwawaySettings(runDir).flatMap((setting) => ['-c', setting]);
  const child = spawn(input.postgres, ['-D', dataDir, ...settings], {
    stdio: ['ignore', log, log],
    env: toolEnvironment(process.env, undefined),
  });
  closeSync(log);
  let exitedWith: string | undefined;
  const exited = new Promise<void>((resolve) => {
    child.on('error', (error) => {
      exitedWith = `could not run ${input.postgres}: ${error.message}`;
      resolve();
    });
    child.on('exit', (code, signal) => {
      exitedWith = describeExit(code, signal);
      resolve();
    });
  });
  const server: ThrowawayServer = {
    socketDir: runDir,
    port: SOCKET_PORT,
    logFile,
    client: (user, database) =>
      new pg.Client({
        host: runDir,
        port: SOCKET_PORT,
        user,
        database,
        application_name: 'pgbackup-verify',
      }),
    logTail: () => tailOf(logFile),
    stop: async () => {
      if (exitedWith !== undefined) return;
      child.kill('SIGINT');
      const stopped = await Promise.race([
        exited.then(() => true),
        sleep(60_000, false, { ref: false }),
      ]);
      if (!stopped) {
        child.kill('SIGKILL');
        await exited;
      }
    },
  };
  try {
    await waitAccepting(server, input.startTimeoutMs, () => exitedWith);
  } catch (error) {
    await server.stop();
    throw error;
  }
  return server;
}

async function answers(server: ThrowawayServer): Promise<boolean> {
  // Any role will do: a server that says the role does not exist has finished recovery.
  const client = server.client('pgbackup-verify-probe', 'template1');
  try {
    await client.connect();
    return true;
  } catch (error) {
    return !isStartingUp(error);
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function waitAccepting(
  server: ThrowawayServer,
  timeoutMs: number,
  exitedWith: () => string | undefined,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const exit = exitedWith();
    if (exit !== undefined) {
      throw new PostgresError(
        `the restored server stopped during start-up (${exit}); its log ends:\n${await server.logTail()}`,
      );
    }
    if (await answers(server)) return;
    if (Date.now() > deadline) {
      throw new PostgresError(
        `the restored server did not accept connections within ${Math.round(timeoutMs / 1000)} s; its log ends:\n${await server.logTail()}`,
      );
    }
    await sleep(200);
  }
}

/** The superuser {@link initThrowawayCluster} creates. */
export const THROWAWAY_SUPERUSER = 'postgres';

/**
 * Creates an empty cluster in `dataDir` for a throwaway server (the logical drill restores
 * dumps into it): UTF-8 with the C locale, which any dump's data fits, trust for local
 * connections, no fsync (the cluster is thrown away), and `postgres` as its superuser.
 *
 * @param initdb the `initdb` program of the major to run
 * @throws PostgresError quoting initdb's output when it fails
 */
export async function initThrowawayCluster(initdb: string, dataDir: string): Promise<void> {
  const args = [
    `--pgdata=${dataDir}`,
    `--username=${THROWAWAY_SUPERUSER}`,
    '--auth=trust',
    '--encoding=UTF8',
    '--locale=C',
    '--no-sync',
    '--no-instructions',
  ];
  const output = await new Promise<{ exit: string | undefined; text: string }>((resolve) => {
    const child = spawn(initdb, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: toolEnvironment(process.env, undefined),
    });
    let text = '';
    const keep = (chunk: Buffer) => {
      text = (text + chunk.toString('utf8')).slice(-16 * 1024);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    child.on('error', (error) =>
      resolve({ exit: `could not run ${initdb}: ${error.message}`, text }),
    );
    child.on('close', (code, signal) =>
      resolve({ exit: code === 0 ? undefined : describeExit(code, signal), text }),
    );
  });
  if (output.exit !== undefined) {
    // initdb looks the user up by id; an id with no passwd entry (a random runAsUser) fails.
    const hint = /could not look up effective user ID/.test(output.text)
      ? `\nThe drill's user id has no passwd entry, which initdb needs: run it as a user that has one (the drill image's 65532 has), or add an entry`
      : '';
    throw new PostgresError(
      `initdb could not create the drill's empty cluster in ${dataDir} (${output.exit}):\n${lastLines(output.text, LOG_TAIL_LINES)}${hint}`,
    );
  }
}
