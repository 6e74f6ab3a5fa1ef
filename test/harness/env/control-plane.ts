/**
 * A Kubernetes control plane without nodes: etcd, kube-apiserver (secure serving, RBAC and
 * Node authorizers, Pod Security admission) and kube-controller-manager (so CronJobs make
 * Jobs, Jobs make Pods, namespaces get their default ServiceAccount and garbage collection
 * follows owner references). All three are built from their Go modules.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { type Pki, signLeaf } from './certs.js';
import { addresses, names } from './layout.js';
import { logFile, runningPid, startDaemon, stopDaemon, waitUntil } from './processes.js';
import type { ToolPaths } from './tools.js';

/**
 * The API server's client certificate for calling kubelets (`kubectl logs`, `exec`); the
 * kubelet admits it by its CA. Signed by the harness's CA before the API server starts.
 */
function kubeletClientFiles(pki: Pki): { cert: string; key: string } {
  return {
    cert: join(pki.dir, 'apiserver-kubelet-client.crt'),
    key: join(pki.dir, 'apiserver-kubelet-client.key'),
  };
}

async function ensureKubeletClientCert(pki: Pki): Promise<void> {
  const files = kubeletClientFiles(pki);
  if (existsSync(files.cert)) return;
  await signLeaf(pki, {
    ...files,
    subject: '/O=system:masters/CN=kube-apiserver-kubelet-client',
    extensions: ['extendedKeyUsage=clientAuth'],
  });
}

/** The API server's URL. */
export function apiserverUrl(): string {
  return `https://${addresses.apiserver.host}:${addresses.apiserver.port}`;
}

/** The admin kubeconfig's path (the one `KUBECONFIG` points at). */
export function adminKubeconfigPath(state: string): string {
  return join(state, 'kubeconfig');
}

function base64File(path: string): string {
  return readFileSync(path).toString('base64');
}

/**
 * Writes a kubeconfig for a client certificate. `server` defaults to the API server's own
 * address; a client that reaches it elsewhere (the node, through the host's end of its link)
 * checks the certificate for the name `kubernetes`, which it carries.
 */
export function writeKubeconfig(
  path: string,
  pki: Pki,
  user: { name: string; cert: string; key: string },
  server: string = apiserverUrl(),
) {
  const cluster = {
    server,
    'certificate-authority-data': base64File(pki.caCert),
    ...(server === apiserverUrl() ? {} : { 'tls-server-name': 'kubernetes' }),
  };
  const config = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'pgbackup-env', cluster }],
    users: [
      {
        name: user.name,
        user: {
          'client-certificate-data': base64File(user.cert),
          'client-key-data': base64File(user.key),
        },
      },
    ],
    contexts: [{ name: 'pgbackup-env', context: { cluster: 'pgbackup-env', user: user.name } }],
    'current-context': 'pgbackup-env',
  };
  writeFileSync(path, stringify(config), { mode: 0o600 });
}

function etcdUrl(port: number): string {
  return `http://${addresses.etcd.host}:${port}`;
}

function startEtcd(state: string, tools: ToolPaths): void {
  if (runningPid(state, 'etcd') !== undefined) return;
  const client = etcdUrl(addresses.etcd.clientPort);
  const peer = etcdUrl(addresses.etcd.peerPort);
  startDaemon(state, {
    name: 'etcd',
    command: tools.etcd,
    args: [
      '--name=pgbackup-env',
      `--data-dir=${join(state, 'etcd')}`,
      `--listen-client-urls=${client}`,
      `--advertise-client-urls=${client}`,
      `--listen-peer-urls=${peer}`,
      `--initial-advertise-peer-urls=${peer}`,
      `--initial-cluster=pgbackup-env=${peer}`,
      // A throwaway test store: durability across power loss buys nothing here.
      '--unsafe-no-fsync',
      '--log-level=warn',
    ],
  });
}

function startApiserver(state: string, tools: ToolPaths, pki: Pki): void {
  if (runningPid(state, 'kube-apiserver') !== undefined) return;
  startDaemon(state, {
    name: 'kube-apiserver',
    command: tools.kubeApiserver,
    args: [
      `--etcd-servers=${etcdUrl(addresses.etcd.clientPort)}`,
      `--bind-address=${addresses.apiserver.host}`,
      `--advertise-address=${addresses.apiserver.host}`,
      `--secure-port=${addresses.apiserver.port}`,
      `--cert-dir=${join(state, 'apiserver')}`,
      `--tls-cert-file=${pki.serverCert}`,
      `--tls-private-key-file=${pki.serverKey}`,
      `--client-ca-file=${pki.caCert}`,
      `--service-account-issuer=https://kubernetes.default.svc.cluster.local`,
      `--service-account-key-file=${pki.serviceAccountPub}`,
      `--service-account-signing-key-file=${pki.serviceAccountKey}`,
      `--service-cluster-ip-range=${names.serviceClusterIpRange}`,
      // The advertise address is loopback, which the endpoint reconciler refuses; nothing
      // here reaches the API server through the `kubernetes` Service, so it has no endpoints.
      '--endpoint-reconciler-type=none',
      `--kubelet-client-certificate=${kubeletClientFiles(pki).cert}`,
      `--kubelet-client-key=${kubeletClientFiles(pki).key}`,
      // By address: the node's host name resolves nowhere (and must not be looked up off the machine).
      '--kubelet-preferred-address-types=InternalIP',
      '--authorization-mode=Node,RBAC',
      '--enable-admission-plugins=NodeRestriction,PodSecurity',
      '--profiling=false',
      '--v=1',
    ],
  });
}

function startControllerManager(state: string, tools: ToolPaths, pki: Pki): void {
  if (runningPid(state, 'kube-controller-manager') !== undefined) return;
  const kubeconfig = join(state, 'controller-manager.kubeconfig');
  writeKubeconfig(kubeconfig, pki, {
    name: 'system:kube-controller-manager',
    cert: pki.controllerManagerCert,
    key: pki.controllerManagerKey,
  });
  startDaemon(state, {
    name: 'kube-controller-manager',
    command: tools.kubeControllerManager,
    args: [
      `--kubeconfig=${kubeconfig}`,
      `--authentication-kubeconfig=${kubeconfig}`,
      `--authorization-kubeconfig=${kubeconfig}`,
      `--bind-address=${addresses.controllerManager.host}`,
      `--secure-port=${addresses.controllerManager.port}`,
      `--cert-dir=${join(state, 'controller-manager')}`,
      `--service-account-private-key-file=${pki.serviceAccountKey}`,
      `--root-ca-file=${pki.caCert}`,
      `--cluster-signing-cert-file=${pki.caCert}`,
      `--cluster-signing-key-file=${pki.caKey}`,
      // Each controller acts under its own service account, as in a real cluster.
      '--use-service-account-credentials=true',
      '--leader-elect=false',
      '--v=1',
    ],
  });
}

/** GET a path on the API server as the admin; resolves with the status code and body. */
export function adminGet(pki: Pki, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolvePromise, reject) => {
    const req = request(
      `${apiserverUrl()}${path}`,
      {
        ca: readFileSync(pki.caCert),
        cert: readFileSync(pki.adminCert),
        key: readFileSync(pki.adminKey),
        timeout: 5_000,
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          body += chunk;
        });
        res.on('end', () => resolvePromise({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error(`GET ${path} timed out`)));
    req.end();
  });
}

/** Starts etcd, the API server and the controller manager, and waits until each serves. */
export async function startControlPlane(state: string, tools: ToolPaths, pki: Pki): Promise<void> {
  writeKubeconfig(adminKubeconfigPath(state), pki, {
    name: 'pgbackup-test-admin',
    cert: pki.adminCert,
    key: pki.adminKey,
  });
  startEtcd(state, tools);
  await waitUntil(
    'etcd',
    async () => (await fetch(`${etcdUrl(addresses.etcd.clientPort)}/health`)).ok,
    { timeoutMs: 60_000, log: logFile(state, 'etcd') },
  );
  await ensureKubeletClientCert(pki);
  startApiserver(state, tools, pki);
  await waitUntil('kube-apiserver', async () => (await adminGet(pki, '/readyz')).status === 200, {
    timeoutMs: 120_000,
    log: logFile(state, 'kube-apiserver'),
  });
  startControllerManager(state, tools, pki);
  // The service-account controller creating `default` proves the controllers are running.
  await waitUntil(
    'kube-controller-manager (default ServiceAccount)',
    async () =>
      (await adminGet(pki, '/api/v1/namespaces/default/serviceaccounts/default')).status === 200,
    { timeoutMs: 120_000, log: logFile(state, 'kube-controller-manager') },
  );
}

/**
 * Starts kube-scheduler, under its own identity (`system:kube-scheduler`, which the default
 * RBAC bindings name), and waits until it serves. The environment runs it only while a real
 * node is up (test/harness/node/): without one it has nowhere to put a pod.
 */
export async function startScheduler(
  state: string,
  pki: Pki,
  scheduler: { binary: string; cert: string; key: string },
): Promise<void> {
  if (runningPid(state, 'kube-scheduler') !== undefined) return;
  const kubeconfig = join(state, 'scheduler.kubeconfig');
  writeKubeconfig(kubeconfig, pki, { name: 'system:kube-scheduler', ...scheduler });
  startDaemon(state, {
    name: 'kube-scheduler',
    command: scheduler.binary,
    args: [
      `--kubeconfig=${kubeconfig}`,
      `--authentication-kubeconfig=${kubeconfig}`,
      `--authorization-kubeconfig=${kubeconfig}`,
      `--bind-address=${addresses.scheduler.host}`,
      `--secure-port=${addresses.scheduler.port}`,
      `--cert-dir=${join(state, 'scheduler')}`,
      '--leader-elect=false',
      '--v=1',
    ],
  });
  // /healthz needs no credentials; its certificate is the scheduler's own, self-signed.
  const healthz = `https://${addresses.scheduler.host}:${addresses.scheduler.port}/healthz`;
  await waitUntil('kube-scheduler', () => insecureGetOk(healthz), {
    timeoutMs: 60_000,
    log: logFile(state, 'kube-scheduler'),
  });
}

function insecureGetOk(url: string): Promise<boolean> {
  return new Promise((resolvePromise) => {
    const req = request(url, { rejectUnauthorized: false, timeout: 5_000 }, (res) => {
      res.resume();
      resolvePromise(res.statusCode === 200);
    });
    req.on('error', () => resolvePromise(false));
    req.on('timeout', () => req.destroy());
    req.end();
  });
}

/** Stops the scheduler (when a node started it), the controller manager, the API server and etcd. */
export async function stopControlPlane(state: string): Promise<void> {
  await stopDaemon(state, 'kube-scheduler');
  await stopDaemon(state, 'kube-controller-manager');
  await stopDaemon(state, 'kube-apiserver');
  await stopDaemon(state, 'etcd');
}
