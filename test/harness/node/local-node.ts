/**
 * A real node on this machine: kubelet + containerd + runc + CNI bridge + kube-proxy in a
 * network namespace of the harness's own, registered with the environment's API server
 * under the Node authorizer, with kube-scheduler added to the control plane while it runs.
 * Pods on it reach the API server (through the `kubernetes` Service), MinIO and PostgreSQL at
 * the host's end of the node's link, where the harness forwards to the environment's servers.
 *
 * Needs root, Linux network namespaces, and Debian's containerd, runc and CNI plugins
 * (.ci/debian-packages.txt); {@link localNodeUnsupported} says what is missing.
 */
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { ensurePki, type Pki } from '../env/certs.js';
import { adminKubeconfigPath, startScheduler, writeKubeconfig } from '../env/control-plane.js';
import { addresses } from '../env/layout.js';
import { runTool, stopDaemon, waitUntil } from '../env/processes.js';
import { ensureToolModule } from '../env/tools.js';
import { importImage, startContainerd, stopContainerd } from './containerd.js';
import { startKubeProxy, stopKubeProxy } from './kube-proxy.js';
import { kubeletLog, startKubelet, stopKubelet, unmountUnder } from './kubelet.js';
import { createNetns, removeNetns } from './netns.js';
import { clientSubjects, ensureClientCert } from './node-certs.js';
import { type NodeLayout, nodeLayout } from './node-layout.js';
import { ensurePauseImage } from './pause-image.js';
import { type Forwarder, startForwarder } from './tcp-forward.js';

/** A running node. */
export interface LocalNode {
  readonly layout: NodeLayout;
  /** Where pods reach the environment's servers. */
  readonly endpoints: {
    readonly s3: string;
    readonly primary: string;
    readonly replica: string;
  };
  /** Loads an image archive into the node's containerd (images are never pulled). */
  importImage(archive: string): Promise<void>;
  /** Stops every part, unmounts, deletes the namespace, the Node and the node's state. */
  stop(): Promise<void>;
}

/** Programs the node runs, from Debian's packages. */
const NODE_PROGRAMS = [
  'containerd',
  'containerd-shim-runc-v2',
  'ctr',
  'runc',
  'nsenter',
  'ip',
  'iptables',
];

/**
 * Why this machine cannot run the node, or undefined when it can: it needs root (network
 * namespaces, mounts, cgroups) and the node's Debian packages.
 */
export async function localNodeUnsupported(): Promise<string | undefined> {
  if (process.platform !== 'linux') return `a local node needs Linux, not ${process.platform}`;
  if (process.getuid?.() !== 0) return 'a local node needs root (network namespaces, mounts)';
  const missing: string[] = [];
  for (const program of NODE_PROGRAMS) {
    await runTool('sh', ['-c', `command -v ${program}`]).catch(() => missing.push(program));
  }
  if (!existsSync('/usr/lib/cni/bridge')) missing.push('/usr/lib/cni/bridge');
  if (missing.length > 0) {
    return `a local node needs ${missing.join(', ')} (apt-get install them: .ci/debian-packages.txt lists them)`;
  }
  return undefined;
}

async function kubectl(state: string, args: readonly string[], input?: string): Promise<string> {
  const kube = await ensureToolModule('kube');
  const command = [join(kube, 'kubectl'), '--kubeconfig', adminKubeconfigPath(state), ...args];
  if (input === undefined) return runTool(command[0] ?? '', command.slice(1));
  // runTool has no stdin: the objects go through a file next to the node's state.
  const file = join(nodeLayout(state).dir, `input-${process.pid}.yaml`);
  writeFileSync(file, input);
  try {
    return await runTool(command[0] ?? '', [...command.slice(1), '-f', file]);
  } finally {
    rmSync(file, { force: true });
  }
}

/**
 * The `kubernetes` Service's endpoint: the API server as pods reach it (the environment's
 * API server advertises a loopback address, which its own endpoint reconciler refuses).
 */
async function publishApiserverEndpoint(state: string, layout: NodeLayout): Promise<void> {
  const slice = {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      name: 'kubernetes',
      namespace: 'default',
      labels: { 'kubernetes.io/service-name': 'kubernetes' },
    },
    addressType: 'IPv4',
    endpoints: [{ addresses: [layout.hostIp], conditions: { ready: true } }],
    ports: [{ name: 'https', port: addresses.apiserver.port, protocol: 'TCP' }],
  };
  await kubectl(state, ['apply'], stringify(slice));
}

async function startForwarders(layout: NodeLayout): Promise<Forwarder[]> {
  const routes = [
    [{ host: layout.hostIp, port: addresses.apiserver.port }, addresses.apiserver],
    [{ host: layout.hostIp, port: addresses.minio.port }, addresses.minio],
    [{ host: layout.primaryIp, port: 5432 }, addresses.primary],
    [{ host: layout.replicaIp, port: 5432 }, addresses.replica],
  ] as const;
  return Promise.all(routes.map(([listen, target]) => startForwarder(listen, target)));
}

async function nodeKubeconfigs(pki: Pki, layout: NodeLayout) {
  const server = `https://${layout.hostIp}:${addresses.apiserver.port}`;
  const subjects = clientSubjects(layout.name);
  const kubelet = join(layout.dir, 'kubelet.kubeconfig');
  const kubeProxy = join(layout.dir, 'kube-proxy.kubeconfig');
  const kubeletCert = await ensureClientCert(pki, `node-${layout.name}`, subjects.kubelet);
  writeKubeconfig(kubelet, pki, { name: `system:node:${layout.name}`, ...kubeletCert }, server);
  const proxyCert = await ensureClientCert(pki, 'kube-proxy', subjects.kubeProxy);
  writeKubeconfig(kubeProxy, pki, { name: 'system:kube-proxy', ...proxyCert }, server);
  const scheduler = await ensureClientCert(pki, 'kube-scheduler', subjects.scheduler);
  return { kubelet, kubeProxy, scheduler };
}

/** Whether the Node reports Ready. */
async function nodeReady(state: string, name: string): Promise<boolean> {
  const node = JSON.parse(await kubectl(state, ['get', 'node', name, '-o', 'json'])) as {
    status?: { conditions?: { type: string; status: string }[] };
  };
  return node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true;
}

/** Stops whatever a previous node of this environment left (after a crash, too). */
async function stopParts(state: string, layout: NodeLayout): Promise<void> {
  await stopKubelet(state, layout);
  await stopKubeProxy(state);
  await stopContainerd(state, layout);
  await stopDaemon(state, 'kube-scheduler');
  await unmountUnder(layout.dir);
  await removeNetns(layout);
}

/**
 * Starts the node of the environment in `state` (which must be up) and waits until its Node
 * is Ready. `log` is told each step, and about first-time builds.
 */
export async function startLocalNode(
  state: string,
  log: (message: string) => void = () => undefined,
): Promise<LocalNode> {
  const layout = nodeLayout(state);
  const [pki, node, pause] = await Promise.all([
    ensurePki(state),
    ensureToolModule('kubeNode', log),
    ensurePauseImage(),
  ]);
  await stopParts(state, layout);
  rmSync(layout.dir, { recursive: true, force: true });
  mkdirSync(layout.dir, { recursive: true, mode: 0o700 });
  log(`node ${layout.name}: network namespace ${layout.netns}, node IP ${layout.nodeIp}`);
  await createNetns(layout);
  const forwarders = await startForwarders(layout);
  const stop = async () => {
    await stopParts(state, layout);
    await Promise.all(forwarders.map((forwarder) => forwarder.close()));
    await kubectl(state, ['delete', 'node', layout.name, '--ignore-not-found']).catch(() => '');
    rmSync(layout.dir, { recursive: true, force: true });
  };
  try {
    const configs = await nodeKubeconfigs(pki, layout);
    await startContainerd(state, layout, pause.reference);
    await importImage(layout, pause.archive);
    await publishApiserverEndpoint(state, layout);
    await startScheduler(state, pki, {
      binary: join(node, 'kube-scheduler'),
      ...configs.scheduler,
    });
    startKubeProxy(state, layout, {
      binary: join(node, 'kube-proxy'),
      kubeconfig: configs.kubeProxy,
    });
    startKubelet(state, layout, {
      binary: join(node, 'kubelet'),
      pki,
      kubeconfig: configs.kubelet,
    });
    await waitUntil(`Node ${layout.name} Ready`, () => nodeReady(state, layout.name), {
      timeoutMs: 120_000,
      intervalMs: 1_000,
      log: kubeletLog(state),
    });
  } catch (error) {
    await stop();
    throw error;
  }
  log(`node ${layout.name} Ready`);
  return {
    layout,
    endpoints: {
      s3: `http://${layout.hostIp}:${addresses.minio.port}`,
      primary: `${layout.primaryIp}:5432`,
      replica: `${layout.replicaIp}:5432`,
    },
    importImage: (archive) => importImage(layout, archive),
    stop,
  };
}
