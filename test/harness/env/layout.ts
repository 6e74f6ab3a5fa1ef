/**
 * Where the local environment lives and how it is addressed. One place names every
 * address, port, directory and pinned version so the harness, scripts and docs agree.
 */
import { homedir, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (this file is test/harness/env/layout.ts). */
export const repoRoot = resolve(fileURLToPath(new URL('../../..', import.meta.url)));

/** Built binaries, keyed by the hash of the Go module that pins them; survives `env:down`. */
export function cacheDir(): string {
  return process.env.PGBACKUP_CACHE_DIR ?? join(homedir(), '.cache', 'pgbackup-operator');
}

/** Runtime state (data directories, logs, pids, certificates); removed by `env:down`. */
export function stateDir(): string {
  return process.env.PGBACKUP_ENV_DIR ?? join(tmpdir(), 'pgbackup-operator-env');
}

/**
 * Distinct loopback addresses, so every server keeps its well-known port (PostgreSQL on 5432
 * like a real cluster) and nothing clashes with services already on 127.0.0.1.
 */
export const addresses = {
  primary: { host: '127.0.0.2', port: 5432 },
  replica: { host: '127.0.0.3', port: 5432 },
  minio: { host: '127.0.0.4', port: 9000 },
  etcd: { host: '127.0.0.5', clientPort: 2379, peerPort: 2380 },
  apiserver: { host: '127.0.0.6', port: 6443 },
  controllerManager: { host: '127.0.0.6', port: 10257 },
} as const;

/** Names fixed by the environment; tests and examples may rely on them. */
export const names = {
  bucket: 'pgbackup-test',
  superuser: 'postgres',
  replicationUser: 'replicator',
  replicationSlot: 'pgbackup_env_replica',
  s3Region: 'us-east-1',
  serviceClusterIpRange: '10.96.0.0/16',
} as const;

/** Go modules under test/tools/ that pin the servers built from source. */
export const toolModules = {
  kube: {
    dir: join(repoRoot, 'test', 'tools', 'kube'),
    binaries: ['kube-apiserver', 'kube-controller-manager', 'kubectl', 'etcd'],
  },
  minio: { dir: join(repoRoot, 'test', 'tools', 'minio'), binaries: ['minio'] },
} as const;
