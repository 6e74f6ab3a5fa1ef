/**
 * The whole local environment as one unit: `upEnvironment` starts whatever is not running
 * (so calling it twice is harmless) and returns the variables that describe it;
 * `downEnvironment` stops every server and removes all state.
 */
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { ensurePki } from './certs.js';
import { adminKubeconfigPath, startControlPlane, stopControlPlane } from './control-plane.js';
import { addresses, names, stateDir } from './layout.js';
import { withLock } from './lock.js';
import { minioEndpoint, startMinio, stopMinio } from './minio.js';
import { pgBinDir, startPostgres, stopPostgres } from './postgres.js';
import { runningPid } from './processes.js';
import { loadOrCreateSecrets } from './secrets.js';
import { ensureSystemPackages } from './system-packages.js';
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
  return withLock(state, async () => {
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
  });
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
  await Promise.all([stopPostgres(state), stopMinio(state), stopControlPlane(state)]);
  rmSync(state, { recursive: true, force: true });
}
