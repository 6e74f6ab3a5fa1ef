/**
 * A second kube-apiserver over the environment's etcd, owned by one test: it can be killed
 * and restarted under a running controller without touching the shared API server. Same
 * binary, certificates and flags as the environment's (test/harness/env/control-plane.ts),
 * on another port of the same address, which the serving certificate covers.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, openSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { addresses, names } from './env/layout.js';
import { requireEnv } from './variables.js';

// The environment's API server address (its serving certificate covers it) on another port.
const HOST = addresses.apiserver.host;
const ETCD = `http://${addresses.etcd.host}:${addresses.etcd.clientPort}`;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, HOST, () => {
      const address = server.address();
      server.close(() =>
        resolve(typeof address === 'object' && address !== null ? address.port : 0),
      );
    });
  });
}

/** A kubeconfig like `kubeConfig`, pointed at another server URL. */
export function kubeConfigFor(kubeConfig: KubeConfig, server: string): KubeConfig {
  const cluster = kubeConfig.getCurrentCluster();
  const user = kubeConfig.getCurrentUser();
  if (cluster === null || user === null) throw new Error('the kubeconfig has no current context');
  const moved = new KubeConfig();
  moved.loadFromOptions({
    clusters: [{ ...cluster, server }],
    users: [user],
    contexts: [{ name: 'moved', cluster: cluster.name, user: user.name }],
    currentContext: 'moved',
  });
  return moved;
}

/** A kube-apiserver process the test controls. */
export class ExtraApiServer {
  readonly url: string;
  readonly #port: number;
  readonly #dir: string;
  #child: ChildProcess | undefined;

  private constructor(port: number) {
    this.#port = port;
    this.url = `https://${HOST}:${port}`;
    this.#dir = mkdtempSync(join(tmpdir(), 'pgbackup-apiserver-'));
  }

  /** Picks a free port; call {@link start} to run it. */
  static async create(): Promise<ExtraApiServer> {
    return new ExtraApiServer(await freePort());
  }

  /** Starts the server and waits until it is ready. */
  async start(admin: KubeConfig): Promise<void> {
    const pki = join(requireEnv('PGBACKUP_ENV_DIR'), 'pki');
    const log = openSync(join(this.#dir, 'kube-apiserver.log'), 'a');
    this.#child = spawn(
      join(requireEnv('PGBACKUP_KUBE_BIN'), 'kube-apiserver'),
      [
        `--etcd-servers=${ETCD}`,
        `--bind-address=${HOST}`,
        `--advertise-address=${HOST}`,
        `--secure-port=${this.#port}`,
        `--cert-dir=${this.#dir}`,
        `--tls-cert-file=${join(pki, 'apiserver.crt')}`,
        `--tls-private-key-file=${join(pki, 'apiserver.key')}`,
        `--client-ca-file=${join(pki, 'ca.crt')}`,
        '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
        `--service-account-key-file=${join(pki, 'sa.pub')}`,
        `--service-account-signing-key-file=${join(pki, 'sa.key')}`,
        `--service-cluster-ip-range=${names.serviceClusterIpRange}`,
        '--endpoint-reconciler-type=none',
        '--authorization-mode=Node,RBAC',
        '--enable-admission-plugins=NodeRestriction,PodSecurity',
        '--profiling=false',
        '--v=1',
      ],
      { stdio: ['ignore', log, log] },
    );
    const probe = kubeConfigFor(admin, this.url);
    const options: { ca?: Buffer; cert?: Buffer; key?: Buffer } = {};
    await probe.applyToHTTPSOptions(options);
    const deadline = Date.now() + 120_000;
    while (Date.now() < deadline) {
      if (this.#child.exitCode !== null) throw new Error(`kube-apiserver exited; see ${this.#dir}`);
      if (await this.#ready(options)) return;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    throw new Error(`kube-apiserver on ${this.url} was not ready within 120 s; see ${this.#dir}`);
  }

  async #ready(tls: { ca?: Buffer; cert?: Buffer; key?: Buffer }): Promise<boolean> {
    const { request } = await import('node:https');
    return new Promise((resolve) => {
      const req = request(`${this.url}/readyz`, { ...tls, timeout: 2000 }, (res) => {
        res.resume();
        resolve(res.statusCode === 200);
      });
      req.on('error', () => resolve(false));
      req.on('timeout', () => req.destroy());
      req.end();
    });
  }

  /** Kills the server at once (no graceful shutdown). */
  async kill(): Promise<void> {
    const child = this.#child;
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }
}
