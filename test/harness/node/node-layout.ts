/**
 * Where the local node lives and how it is addressed: one network namespace per environment,
 * joined to the host by a veth pair whose addresses exist only on this machine, and a pod
 * network on a bridge inside that namespace. Everything is derived from the environment's
 * subnet (PGBACKUP_ENV_SUBNET), so two environments on one machine get two nodes that never
 * share a name, an address or a directory.
 */
import { join } from 'node:path';
import { addresses } from '../env/layout.js';

/** Names, addresses and directories of one environment's node. */
export interface NodeLayout {
  /** The Node's name, as `kubectl get nodes` lists it. */
  readonly name: string;
  /** The network namespace kubelet, containerd, kube-proxy and the pods' bridge live in. */
  readonly netns: string;
  /** The veth end in the host's namespace, and the one inside the node's. */
  readonly hostVeth: string;
  readonly nodeVeth: string;
  /** The host's address on the link: pods reach the environment's servers here. */
  readonly hostIp: string;
  /** The node's InternalIP (not loopback: the kubelet drops a loopback node IP). */
  readonly nodeIp: string;
  /** Host addresses where pods reach the PostgreSQL primary and replica (port 5432). */
  readonly primaryIp: string;
  readonly replicaIp: string;
  /** The link's prefix length (hostIp and nodeIp share it). */
  readonly linkPrefixLength: number;
  /** The pods' addresses, on the bridge `bridge` inside the namespace. */
  readonly podCidr: string;
  readonly bridge: string;
  /** The taint the node registers with, so only pods that ask for it are scheduled there. */
  readonly taint: { readonly key: string; readonly value: string; readonly effect: 'NoSchedule' };
  /** The node's state: containerd's root and state, the kubelet's root, configs, certs. */
  readonly dir: string;
}

/**
 * The environment's index: the third octet of its subnet (127.0.38 → 38), which picks the
 * node's private /24s. Environments differing only in the second octet would clash; the
 * harness never makes those.
 */
function environmentIndex(): number {
  const octets = addresses.apiserver.host.split('.');
  return Number.parseInt(octets[2] ?? '0', 10);
}

/** The node of the environment whose state directory is `state`. */
export function nodeLayout(state: string): NodeLayout {
  const index = environmentIndex();
  // 10.213.x/24 and 10.214.x/24: private ranges on interfaces this harness creates; no
  // route leads from them off the machine (the namespace has no default route).
  const link = `10.213.${index}`;
  return {
    name: `pgbackup-node-${index}`,
    netns: `pgbackup-node-${index}`,
    hostVeth: `pgbh${index}`,
    nodeVeth: `pgbn${index}`,
    hostIp: `${link}.1`,
    nodeIp: `${link}.2`,
    primaryIp: `${link}.12`,
    replicaIp: `${link}.13`,
    linkPrefixLength: 24,
    podCidr: `10.214.${index}.0/24`,
    bridge: `pgbbr${index}`,
    taint: { key: 'pgbackup.dev/local-node', value: 'true', effect: 'NoSchedule' },
    dir: join(state, 'node'),
  };
}
