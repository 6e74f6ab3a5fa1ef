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
 * The first three octets of the environment's loopback addresses. Another value (for
 * example `127.0.9`) lets a second environment run beside the first on one machine, as
 * when a CI run checks a clean clone while a developer's environment is up.
 */
function subnet(): string {
  const value = process.env.PGBACKUP_ENV_SUBNET ?? '127.0.0';
  if (!/^127\.\d{1,3}\.\d{1,3}$/.test(value)) {
    throw new Error(
      `PGBACKUP_ENV_SUBNET must look like 127.0.9 (three octets in 127/8), not "${value}"`,
    );
  }
  return value;
}

const net = subnet();

/**
 * Distinct loopback addresses, so every server keeps its well-known port (PostgreSQL on 5432
 * like a real cluster) and nothing clashes with services already on 127.0.0.1.
 */
export const addresses = {
  primary: { host: `${net}.2`, port: 5432 },
  replica: { host: `${net}.3`, port: 5432 },
  minio: { host: `${net}.4`, port: 9000 },
  etcd: { host: `${net}.5`, clientPort: 2379, peerPort: 2380 },
  apiserver: { host: `${net}.6`, port: 6443 },
  controllerManager: { host: `${net}.6`, port: 10257 },
  scheduler: { host: `${net}.6`, port: 10259 },
  /** test/faults/: toxiproxy's API on this port, its proxies and the HTTP fault proxies on any. */
  faultProxy: { host: `${net}.7`, port: 8474 },
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

/** Go modules under test/tools/ that pin the servers and chart tools built from source. */
export const toolModules = {
  kube: {
    dir: join(repoRoot, 'test', 'tools', 'kube'),
    binaries: ['kube-apiserver', 'kube-controller-manager', 'kubectl', 'etcd'],
  },
  /**
   * The node's programs, built from the same pinned module as the control plane (so one
   * go.mod says the Kubernetes version) but in a scratch copy of it: they need modules the
   * control plane does not, which `-mod=mod` adds there without touching the repository.
   */
  kubeNode: {
    dir: join(repoRoot, 'test', 'tools', 'kube'),
    binaries: ['kubelet', 'kube-scheduler', 'kube-proxy'],
    packages: [
      'k8s.io/kubernetes/cmd/kubelet',
      'k8s.io/kubernetes/cmd/kube-scheduler',
      'k8s.io/kubernetes/cmd/kube-proxy',
    ],
  },
  minio: { dir: join(repoRoot, 'test', 'tools', 'minio'), binaries: ['minio'] },
  helm: { dir: join(repoRoot, 'test', 'tools', 'helm'), binaries: ['helm'] },
  kubeconform: { dir: join(repoRoot, 'test', 'tools', 'kubeconform'), binaries: ['kubeconform'] },
  promtool: { dir: join(repoRoot, 'test', 'tools', 'promtool'), binaries: ['promtool'] },
  monitoringCrds: {
    dir: join(repoRoot, 'test', 'tools', 'monitoring-crds'),
    binaries: ['controller-gen'],
  },
  toxiproxy: {
    dir: join(repoRoot, 'test', 'tools', 'toxiproxy'),
    binaries: ['toxiproxy-server'],
  },
} as const;
