/**
 * The node's container runtime: Debian's containerd 1.6 with runc, configured by the harness
 * with its own root, state and socket under the node's directory (so it never meets a system
 * containerd), started inside the node's network namespace. The settings below are the ones
 * this machine needs; docs/local-node.md says why each is there.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { logFile, runTool, startDaemon, stopDaemon, waitUntil } from '../env/processes.js';
import { inNetns } from './netns.js';
import type { NodeLayout } from './node-layout.js';

/** The daemon's name in the environment's pid and log files. */
const DAEMON = 'node-containerd';

/** The containerd namespace the CRI plugin (so the kubelet) uses. */
const CRI_NAMESPACE = 'k8s.io';

/** Directories and socket of the node's containerd. */
export function containerdPaths(layout: NodeLayout) {
  const dir = join(layout.dir, 'containerd');
  return {
    dir,
    config: join(dir, 'config.toml'),
    root: join(dir, 'root'),
    state: join(dir, 'state'),
    socket: join(dir, 'containerd.sock'),
    cniConfDir: join(dir, 'cni'),
  };
}

/** The CNI network: a bridge inside the node's namespace, pod addresses from host-local. */
function cniConfig(layout: NodeLayout): string {
  return JSON.stringify(
    {
      cniVersion: '1.0.0',
      name: 'pgbackup-node',
      plugins: [
        {
          type: 'bridge',
          bridge: layout.bridge,
          isGateway: true,
          // No masquerading: pod traffic leaves the node only to the host's link addresses,
          // which route back to the pods without it.
          ipMasq: false,
          hairpinMode: true,
          ipam: {
            type: 'host-local',
            ranges: [[{ subnet: layout.podCidr }]],
            routes: [{ dst: '0.0.0.0/0' }],
            dataDir: join(containerdPaths(layout).dir, 'ipam'),
          },
        },
        { type: 'portmap', capabilities: { portMappings: true } },
      ],
    },
    null,
    2,
  );
}

function containerdConfig(layout: NodeLayout, sandboxImage: string): string {
  const paths = containerdPaths(layout);
  const cri = 'plugins."io.containerd.grpc.v1.cri"';
  return [
    'version = 2',
    `root = ${JSON.stringify(paths.root)}`,
    `state = ${JSON.stringify(paths.state)}`,
    '[grpc]',
    `  address = ${JSON.stringify(paths.socket)}`,
    '[plugins."io.containerd.internal.v1.opt"]',
    `  path = ${JSON.stringify(join(paths.dir, 'opt'))}`,
    `[${cri}]`,
    // The public pause image cannot be pulled here: a locally built one is imported.
    `  sandbox_image = ${JSON.stringify(sandboxImage)}`,
    // Without CAP_SYS_RESOURCE runc cannot lower oom_score_adj ("can't get final child's
    // PID from pipe"); this keeps the container's at or above containerd's own.
    '  restrict_oom_score_adj = true',
    // Pod network namespaces under the node's state, so stopping the node finds them all.
    '  netns_mounts_under_state_dir = true',
    '  enable_selinux = false',
    `[${cri}.containerd]`,
    '  snapshotter = "overlayfs"',
    '  default_runtime_name = "runc"',
    `[${cri}.containerd.runtimes.runc]`,
    '  runtime_type = "io.containerd.runc.v2"',
    `[${cri}.containerd.runtimes.runc.options]`,
    // The kubelet uses the cgroupfs driver (this machine has no systemd managing cgroups).
    '  SystemdCgroup = false',
    '  BinaryName = "/usr/sbin/runc"',
    `[${cri}.cni]`,
    '  bin_dir = "/usr/lib/cni"',
    `  conf_dir = ${JSON.stringify(paths.cniConfDir)}`,
    '',
  ].join('\n');
}

/** Runs `ctr` against the node's containerd, in the CRI namespace. */
export function ctr(
  layout: NodeLayout,
  args: readonly string[],
  timeoutMs = 300_000,
): Promise<string> {
  return runTool(
    'ctr',
    ['--address', containerdPaths(layout).socket, '-n', CRI_NAMESPACE, ...args],
    {
      timeoutMs,
    },
  );
}

/** Writes the configuration, starts containerd in the node's namespace, waits for its socket. */
export async function startContainerd(
  state: string,
  layout: NodeLayout,
  sandboxImage: string,
): Promise<void> {
  const paths = containerdPaths(layout);
  mkdirSync(paths.cniConfDir, { recursive: true });
  writeFileSync(join(paths.cniConfDir, '10-pgbackup-node.conflist'), cniConfig(layout));
  writeFileSync(paths.config, containerdConfig(layout, sandboxImage));
  const [command = 'nsenter', ...prefix] = inNetns(layout);
  startDaemon(state, {
    name: DAEMON,
    command,
    args: [...prefix, 'containerd', '--config', paths.config, '--log-level', 'warn'],
  });
  await waitUntil('containerd', async () => (await ctr(layout, ['version'], 10_000)).length > 0, {
    timeoutMs: 60_000,
    log: logFile(state, DAEMON),
  });
}

/**
 * Loads an image archive (`docker save` or OCI) into the CRI namespace, where the kubelet
 * finds it: images are imported, never pulled.
 */
export async function importImage(layout: NodeLayout, archive: string): Promise<void> {
  await ctr(layout, ['images', 'import', '--all-platforms', archive], 600_000);
}

/** The pids of the shims serving this containerd (each names its socket in its arguments). */
function shimPids(layout: NodeLayout): number[] {
  const socket = containerdPaths(layout).socket;
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const args = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      if (args[0]?.endsWith('containerd-shim-runc-v2') === true && args.includes(socket)) {
        pids.push(Number(entry));
      }
    } catch {
      // The process ended while we looked.
    }
  }
  return pids;
}

/**
 * Kills every container, stops containerd, and kills the shims that would outlive it (a
 * shim is its containers' parent and keeps running when containerd stops, by design).
 */
export async function stopContainerd(state: string, layout: NodeLayout): Promise<void> {
  if (existsSync(containerdPaths(layout).socket)) {
    const tasks = await ctr(layout, ['tasks', 'list', '-q'], 30_000).catch(() => '');
    for (const id of tasks.split('\n').filter((line) => line !== '')) {
      await ctr(layout, ['tasks', 'kill', '-a', '-s', 'SIGKILL', id], 30_000).catch(() => '');
    }
  }
  await stopDaemon(state, DAEMON, { graceMs: 10_000 });
  for (const pid of shimPids(layout)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
}
