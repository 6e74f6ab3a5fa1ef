/**
 * kube-proxy inside the node's network namespace, in iptables mode: it serves Services'
 * ClusterIPs to the pods, among them the `kubernetes` Service through which in-cluster
 * clients (the controller, the runner) reach the API server. Its rules stay in the
 * namespace, which is deleted with the node.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { startDaemon, stopDaemon } from '../env/processes.js';
import { inNetns } from './netns.js';
import type { NodeLayout } from './node-layout.js';

const DAEMON = 'node-kube-proxy';

/** Starts kube-proxy for the node. */
export function startKubeProxy(
  state: string,
  layout: NodeLayout,
  options: { binary: string; kubeconfig: string },
): void {
  const config = join(layout.dir, 'kube-proxy.yaml');
  writeFileSync(
    config,
    stringify({
      apiVersion: 'kubeproxy.config.k8s.io/v1alpha1',
      kind: 'KubeProxyConfiguration',
      mode: 'iptables',
      clientConnection: { kubeconfig: options.kubeconfig },
      hostnameOverride: layout.name,
      bindAddress: layout.nodeIp,
      clusterCIDR: layout.podCidr,
      healthzBindAddress: `${layout.nodeIp}:10256`,
      metricsBindAddress: '127.0.0.1:10249',
      // NodePorts only on the node's own address (never route_localnet on loopback).
      nodePortAddresses: [`${layout.nodeIp}/32`],
      // Leave the machine's conntrack table size alone (a machine-wide sysctl).
      conntrack: { maxPerCore: 0 },
    }),
  );
  const [command = 'nsenter', ...prefix] = inNetns(layout);
  startDaemon(state, {
    name: DAEMON,
    command,
    args: [...prefix, options.binary, `--config=${config}`, '--v=1'],
  });
}

/** Stops kube-proxy (its rules go with the namespace). */
export async function stopKubeProxy(state: string): Promise<void> {
  await stopDaemon(state, DAEMON, { graceMs: 5_000 });
}
