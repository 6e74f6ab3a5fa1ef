/**
 * A PostgreSQL primary and a streaming replica from Debian's binaries, shaped like a real
 * cluster: data checksums, SCRAM password authentication over TCP, a replication role, and
 * a physical replication slot. PostgreSQL refuses to run as root, so when the harness is
 * root the servers run as the `postgres` system user that Debian's package creates.
 */
import {
  chownSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { addresses, names } from './layout.js';
import {
  HarnessError,
  logFile,
  type RunAs,
  runningPid,
  runTool,
  startDaemon,
  stopDaemon,
  waitUntil,
} from './processes.js';
import type { Secrets } from './secrets.js';

type Role = 'primary' | 'replica';

/** The newest PostgreSQL major version whose server binaries are installed. */
export function pgBinDir(): string {
  const root = '/usr/lib/postgresql';
  const majors = existsSync(root)
    ? readdirSync(root)
        .filter((entry) => existsSync(join(root, entry, 'bin', 'postgres')))
        .map(Number)
        .filter(Number.isInteger)
        .sort((a, b) => b - a)
    : [];
  const newest = majors[0];
  if (newest === undefined) {
    throw new HarnessError(
      'no PostgreSQL server under /usr/lib/postgresql: install it with `apt-get install postgresql` (.ci/run does)',
    );
  }
  return join(root, String(newest), 'bin');
}

/** The account the servers run as: ourselves, or `postgres` when we are root. */
export function postgresRunAs(): RunAs | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((entry) => entry.startsWith('postgres:'));
  const [, , uid, gid] = line?.split(':') ?? [];
  if (uid === undefined || gid === undefined) {
    throw new HarnessError(
      'running as root but there is no `postgres` user to run PostgreSQL as: install the postgresql package',
    );
  }
  return { uid: Number(uid), gid: Number(gid) };
}

function dataDir(state: string, role: Role): string {
  return join(state, 'pg', role);
}

function socketDir(state: string, role: Role): string {
  return join(state, 'pg', `${role}-socket`);
}

function ownedDir(path: string, runAs: RunAs | undefined, mode: number): void {
  mkdirSync(path, { recursive: true, mode });
  if (runAs !== undefined) chownSync(path, runAs.uid, runAs.gid);
}

/** Settings that differ between the two servers; included from postgresql.conf. */
function serverSettings(state: string, role: Role): string {
  const { host, port } = addresses[role];
  return [
    `listen_addresses = '${host}'`,
    `port = ${port}`,
    `unix_socket_directories = '${socketDir(state, role)}'`,
    "password_encryption = 'scram-sha-256'",
    "wal_level = 'replica'",
    'max_wal_senders = 10',
    'max_replication_slots = 10',
    'hot_standby = on',
    "log_line_prefix = '%m [%p] %q%u@%d '",
    'log_connections = on',
    '',
  ].join('\n');
}

const hba = [
  '# Local socket: the harness administers the servers through it.',
  'local   all          all                  trust',
  '# Everything over TCP authenticates with SCRAM, like a real cluster.',
  'host    all          all   127.0.0.0/8    scram-sha-256',
  'host    replication  all   127.0.0.0/8    scram-sha-256',
  '',
].join('\n');

function writeOwned(path: string, content: string, runAs: RunAs | undefined): void {
  writeFileSync(path, content, { mode: 0o600 });
  if (runAs !== undefined) chownSync(path, runAs.uid, runAs.gid);
}

async function initPrimary(state: string, secrets: Secrets, runAs: RunAs | undefined) {
  const data = dataDir(state, 'primary');
  ownedDir(data, runAs, 0o700);
  const pwfile = join(state, 'pg', 'superuser.pw');
  writeOwned(pwfile, `${secrets.postgresPassword}\n`, runAs);
  await runTool(
    join(pgBinDir(), 'initdb'),
    [
      '-D',
      data,
      '--data-checksums',
      '-U',
      names.superuser,
      `--pwfile=${pwfile}`,
      '--auth-local=trust',
      '--auth-host=scram-sha-256',
      '--encoding=UTF8',
      '--locale=C.UTF-8',
    ],
    { runAs },
  );
  writeOwned(join(data, 'pg_hba.conf'), hba, runAs);
  writeOwned(join(data, 'pgbackup-env.conf'), serverSettings(state, 'primary'), runAs);
  const conf = join(data, 'postgresql.conf');
  writeFileSync(conf, `${readFileSync(conf, 'utf8')}\ninclude 'pgbackup-env.conf'\n`);
}

function startServer(state: string, role: Role, runAs: RunAs | undefined): void {
  if (runningPid(state, `postgres-${role}`) !== undefined) return;
  ownedDir(socketDir(state, role), runAs, 0o755);
  startDaemon(state, {
    name: `postgres-${role}`,
    command: join(pgBinDir(), 'postgres'),
    args: ['-D', dataDir(state, role)],
    runAs,
  });
}

async function waitAccepting(state: string, role: Role): Promise<void> {
  const { host, port } = addresses[role];
  await waitUntil(
    `PostgreSQL ${role} on ${host}:${port}`,
    async () => {
      await runTool(join(pgBinDir(), 'pg_isready'), ['-q', '-h', host, '-p', String(port)]);
      return true;
    },
    { timeoutMs: 60_000, log: logFile(state, `postgres-${role}`) },
  );
}

/** A client connected as the superuser over TCP, the way the operator connects. */
export function superuserClient(role: Role, secrets: Secrets, database = 'postgres'): pg.Client {
  return new pg.Client({
    host: addresses[role].host,
    port: addresses[role].port,
    user: names.superuser,
    password: secrets.postgresPassword,
    database,
  });
}

async function withClient<T>(client: pg.Client, work: (c: pg.Client) => Promise<T>): Promise<T> {
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

async function ensureReplicationRole(secrets: Secrets): Promise<void> {
  await withClient(superuserClient('primary', secrets), async (client) => {
    const password = client.escapeLiteral(secrets.replicationPassword);
    const exists = await client.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [
      names.replicationUser,
    ]);
    const verb = exists.rowCount === 0 ? 'CREATE' : 'ALTER';
    await client.query(
      `${verb} ROLE ${names.replicationUser} WITH LOGIN REPLICATION PASSWORD ${password}`,
    );
  });
}

async function cloneReplica(state: string, secrets: Secrets, runAs: RunAs | undefined) {
  const data = dataDir(state, 'replica');
  ownedDir(data, runAs, 0o700);
  const { host, port } = addresses.primary;
  await runTool(
    join(pgBinDir(), 'pg_basebackup'),
    [
      '-h',
      host,
      '-p',
      String(port),
      '-U',
      names.replicationUser,
      '-D',
      data,
      '-R',
      '-X',
      'stream',
      '-C',
      '-S',
      names.replicationSlot,
      '--checkpoint=fast',
    ],
    { runAs, env: { PGPASSWORD: secrets.replicationPassword } },
  );
  writeOwned(join(data, 'pgbackup-env.conf'), serverSettings(state, 'replica'), runAs);
}

async function waitStreaming(state: string, secrets: Secrets): Promise<void> {
  await waitUntil(
    'replica streaming from the primary',
    () =>
      withClient(superuserClient('primary', secrets), async (client) => {
        const result = await client.query(
          "SELECT 1 FROM pg_stat_replication WHERE state = 'streaming'",
        );
        return (result.rowCount ?? 0) > 0;
      }),
    { timeoutMs: 60_000, log: logFile(state, 'postgres-replica') },
  );
}

/** Creates (first time) and starts the primary and its streaming replica. */
export async function startPostgres(state: string, secrets: Secrets): Promise<void> {
  const runAs = postgresRunAs();
  ownedDir(join(state, 'pg'), runAs, 0o755);
  if (!existsSync(join(dataDir(state, 'primary'), 'PG_VERSION'))) {
    await initPrimary(state, secrets, runAs);
  }
  startServer(state, 'primary', runAs);
  await waitAccepting(state, 'primary');
  await ensureReplicationRole(secrets);
  if (!existsSync(join(dataDir(state, 'replica'), 'PG_VERSION'))) {
    await cloneReplica(state, secrets, runAs);
  }
  startServer(state, 'replica', runAs);
  await waitAccepting(state, 'replica');
  await waitStreaming(state, secrets);
}

/** Stops both servers with a fast shutdown (SIGINT). */
export async function stopPostgres(state: string): Promise<void> {
  await stopDaemon(state, 'postgres-replica', { signal: 'SIGINT' });
  await stopDaemon(state, 'postgres-primary', { signal: 'SIGINT' });
}

/** The server's version string, e.g. "15.18". */
export async function serverVersion(secrets: Secrets): Promise<string> {
  return withClient(superuserClient('primary', secrets), async (client) => {
    const result = await client.query<{ server_version: string }>('SHOW server_version');
    return result.rows[0]?.server_version ?? 'unknown';
  });
}
