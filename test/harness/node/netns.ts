/**
 * The node's network namespace and the veth pair that joins it to the host. Kubelet,
 * containerd (and so every pod's bridge and CNI plugin) and kube-proxy run inside it, so the
 * iptables rules kube-proxy writes stay there. The namespace has no default route: pods reach
 * only the node, each other, and the host's addresses on the veth link.
 */
import { runTool } from '../env/processes.js';
import type { NodeLayout } from './node-layout.js';

async function ip(args: readonly string[]): Promise<string> {
  return runTool('ip', args, { timeoutMs: 30_000 });
}

/** Whether the namespace exists. */
export async function netnsExists(layout: NodeLayout): Promise<boolean> {
  const list = await ip(['netns', 'list']);
  return list.split('\n').some((line) => line.split(' ')[0] === layout.netns);
}

/** The command prefix that runs a program inside the node's network namespace only. */
export function inNetns(layout: NodeLayout): readonly string[] {
  // nsenter --net, not `ip netns exec`: the latter also makes a private mount namespace, so
  // the kubelet's volume mounts would be invisible to containerd and the containers.
  return ['nsenter', `--net=/run/netns/${layout.netns}`, '--'];
}

/** Creates the namespace, the veth link with its addresses, and the host's route to the pods. */
export async function createNetns(layout: NodeLayout): Promise<void> {
  await removeNetns(layout);
  const prefix = `/${layout.linkPrefixLength}`;
  await ip(['netns', 'add', layout.netns]);
  await ip([
    'link',
    'add',
    layout.hostVeth,
    'type',
    'veth',
    'peer',
    'name',
    layout.nodeVeth,
    'netns',
    layout.netns,
  ]);
  for (const address of [layout.hostIp, layout.primaryIp, layout.replicaIp]) {
    await ip(['addr', 'add', `${address}${prefix}`, 'dev', layout.hostVeth]);
  }
  await ip(['link', 'set', layout.hostVeth, 'up']);
  await ip(['-n', layout.netns, 'link', 'set', 'lo', 'up']);
  await ip([
    '-n',
    layout.netns,
    'addr',
    'add',
    `${layout.nodeIp}${prefix}`,
    'dev',
    layout.nodeVeth,
  ]);
  await ip(['-n', layout.netns, 'link', 'set', layout.nodeVeth, 'up']);
  // Replies from the host to a pod go back through the node (no masquerading anywhere).
  await ip(['route', 'add', layout.podCidr, 'via', layout.nodeIp, 'dev', layout.hostVeth]);
  // The node routes between its bridge and the link; this sysctl is the namespace's own.
  await runTool('nsenter', [
    `--net=/run/netns/${layout.netns}`,
    '--',
    'sysctl',
    '-q',
    '-w',
    'net.ipv4.ip_forward=1',
  ]);
}

/** Deletes the namespace (and with it the veth pair and the host's route); idempotent. */
export async function removeNetns(layout: NodeLayout): Promise<void> {
  if (await netnsExists(layout)) await ip(['netns', 'delete', layout.netns]);
  // The host's end goes with its peer; a half-made pair from a crash is removed here.
  if (await hostVethExists(layout)) {
    // The kernel removes the peer's end a moment after the namespace goes, so it may vanish
    // between the look and the delete ("Cannot find device"): only a link still there fails.
    await ip(['link', 'delete', layout.hostVeth]).catch(async (error: unknown) => {
      if (await hostVethExists(layout)) throw error;
    });
  }
}

async function hostVethExists(layout: NodeLayout): Promise<boolean> {
  const links = await ip(['-o', 'link', 'show']);
  return links.includes(` ${layout.hostVeth}@`) || links.includes(` ${layout.hostVeth}:`);
}
