/**
 * The whole local environment as one unit: `upEnvironment` starts whatever is not running
 * (so calling it twice is harmless) and returns the variables that describe it;
 * `downEnvironment` stops every server and removes all state. A test run uses
 * `useEnvironment` and `leaveEnvironment` instead, which count the runs using it.
 * All of them hold the environment's lock.
 */
import { existsSync, mkdirSync, readdirSync, rmdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ensurePki } from './certs.js';
import { adminKubeconfigPath, startControlPlane, stopControlPlane } from './control-plane.js';
import { addresses, names, stateDir } from './layout.js';
import { LOCK_NAME, withLock } from './lock.js';
import { minioEndpoint, startMinio, stopMinio } from './minio.js';
import { pgBinDir, startPostgres, stopPostgres } from './postgres.js';
import { runningPid } from './processes.js';
import { loadOrCreateSecrets } from './secrets.js';
import { ensureSystemPackages } from './system-packages.js';
import { registerTestRun, unregisterTestRun } from './test-runs.js';
import { ensureEnvironmentTools } from './tools.js';

/** Every daemon the environment runs, by pid-file name. */
export const daemons = [
  'postgres-primary',
  'postgres-replica',
  'minio',
  'etcd',
  'kube-apiserver',
  'kube-controller-manager',
] as const;

/** The variables `env:up` exports; examples, scripts and docs rely on these names. */
export type EnvironmentVariables = Readonly<Record<string, string>>;

function hostPort(server: { host: string; port: number }): string {
  return `${server.host}:${server.port}`;
}

/** Starts (or confirms) the environment and returns its variables. */
export async function upEnvironment(
  log: (message: string) => void = () => undefined,
): Promise<EnvironmentVariables> {
  const state = stateDir();
  mkdirSync(state, { recursive: true, mode: 0o755 });
  return withLock(state, () => startEnvironment(state, log));
}

/**
 * For a test run: starts the environment when it is not running, and registers this process
 * as one of the runs using it. `mayStop`: whether test runs may stop the environment when
 * the last is done, should this run be the one that starts it.
 */
export async function useEnvironment(
  log: (message: string) => void,
  mayStop: boolean,
): Promise<EnvironmentVariables> {
  const state = stateDir();
  mkdirSync(state, { recursive: true, mode: 0o755 });
  return withLock(state, async () => {
    const started = !environmentIsRunning();
    const variables = await startEnvironment(state, log);
    registerTestRun(state, process.pid, started && mayStop);
    return variables;
  });
}

/**
 * A test run is done with the environment: unregisters it and, when a test run started the
 * environment and no live run remains, stops it.
 */
export async function leaveEnvironment(): Promise<void> {
  const state = stateDir();
  if (!existsSync(state)) return;
  const decision = await withLock(state, async () => {
    const stop = unregisterTestRun(state, process.pid);
    if (stop === 'stop') await stopEnvironment(state);
    return stop;
  });
  if (decision === 'stop') removeIfEmpty(state);
}

async function startEnvironment(
  state: string,
  log: (message: string) => void,
): Promise<EnvironmentVariables> {
  await ensureSystemPackages(log);
  const secrets = loadOrCreateSecrets(state);
  const tools = await ensureEnvironmentTools(log);
  const pki = await ensurePki(state);
  log(`starting the environment in ${state}`);
  await Promise.all([
    startPostgres(state, secrets),
    startMinio(state, tools.minio, secrets),
    startControlPlane(state, tools, pki),
  ]);
  return {
    KUBECONFIG: adminKubeconfigPath(state),
    PGBACKUP_S3_ENDPOINT: minioEndpoint(),
    PGBACKUP_S3_BUCKET: names.bucket,
    AWS_ACCESS_KEY_ID: secrets.s3AccessKeyId,
    AWS_SECRET_ACCESS_KEY: secrets.s3SecretAccessKey,
    AWS_REGION: names.s3Region,
    PGBACKUP_PRIMARY: hostPort(addresses.primary),
    PGBACKUP_REPLICA: hostPort(addresses.replica),
    PGUSER: names.superuser,
    PGPASSWORD: secrets.postgresPassword,
    PGBACKUP_REPLICATION_USER: names.replicationUser,
    PGBACKUP_REPLICATION_PASSWORD: secrets.replicationPassword,
    PGBACKUP_PG_BIN: pgBinDir(),
    PGBACKUP_KUBE_BIN: dirname(tools.kubectl),
    PGBACKUP_ENV_DIR: state,
  };
}

/** Which daemons are running now. */
export function environmentStatus(): Record<string, number | undefined> {
  const state = stateDir();
  return Object.fromEntries(daemons.map((name) => [name, runningPid(state, name)]));
}

/** True when every daemon of the environment is running. */
export function environmentIsRunning(): boolean {
  return Object.values(environmentStatus()).every((pid) => pid !== undefined);
}

/** Stops every server and removes the state directory (the build cache stays). */
export async function downEnvironment(): Promise<void> {
  const state = stateDir();
  if (!existsSync(state)) return;
  await withLock(state, () => stopEnvironment(state));
  removeIfEmpty(state);
}

/** Stops every server and removes the state but the lock, which its holder removes. */
async function stopEnvironment(state: string): Promise<void> {
  await Promise.all([stopPostgres(state), stopMinio(state), stopControlPlane(state)]);
  for (const entry of readdirSync(state)) {
    if (entry !== LOCK_NAME) rmSync(join(state, entry), { recursive: true, force: true });
  }
}

/** Removes the state directory once its lock is released, unless someone took the lock since. */
function removeIfEmpty(state: string): void {
  try {
    rmdirSync(state);
  } catch {
    // Not empty (another process holds the lock now) or already gone: it is theirs.
  }
}
