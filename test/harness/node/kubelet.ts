/**
 * The node's kubelet, built from the pinned Kubernetes module, run inside the node's network
 * namespace with its own credentials (the Node authorizer's `system:node:<name>`). The
 * settings that differ from a production kubelet are the ones this machine needs, each
 * explained where it is set and in docs/local-node.md.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { Pki } from '../env/certs.js';
import { logFile, runTool, startDaemon, stopDaemon } from '../env/processes.js';
import { containerdPaths } from './containerd.js';
import { inNetns } from './netns.js';
import type { NodeLayout } from './node-layout.js';

const DAEMON = 'node-kubelet';

/** The kubelet's root directory (pods' volumes, its checkpoints). */
export function kubeletRootDir(layout: NodeLayout): string {
  return join(layout.dir, 'kubelet');
}

function kubeletConfig(layout: NodeLayout, pki: Pki): Record<string, unknown> {
  return {
    apiVersion: 'kubelet.config.k8s.io/v1beta1',
    kind: 'KubeletConfiguration',
    address: layout.nodeIp,
    readOnlyPort: 0,
    healthzBindAddress: '127.0.0.1',
    healthzPort: 10248,
    // The API server calls the kubelet (logs, exec) with a client certificate of the CA;
    // anything else is refused. A production kubelet asks the API server (Webhook) instead.
    authentication: {
      anonymous: { enabled: false },
      webhook: { enabled: false },
      x509: { clientCAFile: pki.caCert },
    },
    authorization: { mode: 'AlwaysAllow' },
    containerRuntimeEndpoint: `unix://${containerdPaths(layout).socket}`,
    // This machine has cgroup v1 (hybrid) and no systemd managing cgroups.
    failCgroupV1: false,
    cgroupDriver: 'cgroupfs',
    // No per-QoS cgroup tree and no node-allocatable enforcement: the harness may not own
    // the machine's root cgroups, and the node shares the machine with other work.
    cgroupsPerQOS: false,
    enforceNodeAllocatable: [],
    failSwapOn: false,
    // Ephemeral-storage accounting needs the root filesystem's stats, which the harness's
    // directories under /tmp do not give it.
    localStorageCapacityIsolation: false,
    // No cluster DNS: pods reach the environment by address (and the API server through
    // the `kubernetes` Service's ClusterIP, which kube-proxy serves).
    resolvConf: '',
    registerWithTaints: [layout.taint],
    maxPods: 30,
    // Images are imported, never pulled, and never collected while the node runs.
    imageGCHighThresholdPercent: 100,
    imageGCLowThresholdPercent: 99,
    evictionHard: {
      'memory.available': '100Mi',
      'nodefs.available': '1%',
      'imagefs.available': '1%',
    },
    serializeImagePulls: false,
    rotateCertificates: false,
    serverTLSBootstrap: false,
    staticPodPath: '',
    shutdownGracePeriod: '0s',
  };
}

/** Starts the kubelet; it registers the Node itself. */
export function startKubelet(
  state: string,
  layout: NodeLayout,
  options: { binary: string; pki: Pki; kubeconfig: string },
): void {
  const root = kubeletRootDir(layout);
  const config = join(layout.dir, 'kubelet.yaml');
  writeFileSync(config, stringify(kubeletConfig(layout, options.pki)));
  const [command = 'nsenter', ...prefix] = inNetns(layout);
  startDaemon(state, {
    name: DAEMON,
    command,
    args: [
      ...prefix,
      options.binary,
      `--config=${config}`,
      `--kubeconfig=${options.kubeconfig}`,
      `--hostname-override=${layout.name}`,
      `--node-ip=${layout.nodeIp}`,
      `--root-dir=${root}`,
      `--cert-dir=${join(layout.dir, 'kubelet-pki')}`,
      '--v=1',
    ],
  });
}

/**
 * Stops the kubelet and unmounts what it mounted: its root directory is a bind mount of
 * itself (made shared for the containers' volume propagation), with the pods' volumes
 * (tmpfs Secrets, projected tokens) inside.
 */
export async function stopKubelet(state: string, layout: NodeLayout): Promise<void> {
  await stopDaemon(state, DAEMON, { graceMs: 10_000 });
  await unmountUnder(layout.dir);
}

/** The mount points under `dir`, deepest first. */
function mountsUnder(dir: string): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((line) => line.split(' ')[4] ?? '')
    .map((point) => point.replaceAll('\\040', ' '))
    .filter((point) => point === dir || point.startsWith(`${dir}/`))
    .sort((a, b) => b.length - a.length);
}

/** Unmounts everything mounted under `dir` (a bounded number of passes: mounts may stack). */
export async function unmountUnder(dir: string): Promise<void> {
  for (let pass = 0; pass < 5; pass += 1) {
    const points = mountsUnder(dir);
    if (points.length === 0) return;
    for (const point of points) await runTool('umount', ['-l', point]).catch(() => '');
  }
}

/** The kubelet's log file, for failure messages. */
export function kubeletLog(state: string): string {
  return logFile(state, DAEMON);
}
