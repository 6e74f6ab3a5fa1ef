/**
 * Where a pod's volumes live on this machine, and the local process that stands for its
 * container: the container's paths translated to those directories, and the variables that
 * tell the operator where its service account, temporary directory and API server are.
 * Pure: the executor creates the directories and writes the projected files.
 */
import { join } from 'node:path';
import type { V1Container, V1Pod, V1Volume } from '@kubernetes/client-node';
import { SERVICE_ACCOUNT_DIR, SERVICE_ACCOUNT_DIR_ENV } from '../../../src/kube/kube-config.js';
import { LOCAL_COPY_MOUNT_PATH } from '../../../src/render/runner-pod.js';
import { ContainerConfigError, expandReferences } from './pod-env.js';

/** The directories a pod's volumes are mapped under. */
export interface VolumeRoots {
  /** This pod's own directory: emptyDir and projected volumes, which die with the pod. */
  readonly podDir: string;
  /** Claims, one persistent directory per `<namespace>/<claimName>`, shared by every pod. */
  readonly claimsDir: string;
}

/** How a volume is stood for. */
export type VolumeKind = 'emptyDir' | 'persistentVolumeClaim' | 'projected';

/** One mount of the container, mapped to a local directory. */
export interface MappedMount {
  readonly volume: string;
  readonly kind: VolumeKind;
  readonly mountPath: string;
  /** The local directory the container sees at `mountPath`. */
  readonly localPath: string;
}

function kindOf(volume: V1Volume): VolumeKind {
  if (volume.emptyDir !== undefined) return 'emptyDir';
  if (volume.persistentVolumeClaim !== undefined) return 'persistentVolumeClaim';
  if (volume.projected !== undefined) return 'projected';
  const kind = Object.keys(volume).find((key) => key !== 'name') ?? 'unknown';
  throw new ContainerConfigError(
    `volume "${volume.name}" is a ${kind} volume; the local executor supports emptyDir, persistentVolumeClaim and projected`,
  );
}

function volumeDirOf(pod: V1Pod, volume: V1Volume, roots: VolumeRoots): string {
  const claim = volume.persistentVolumeClaim?.claimName;
  if (claim !== undefined) return join(roots.claimsDir, pod.metadata?.namespace ?? '', claim);
  return join(roots.podDir, 'volumes', volume.name);
}

/**
 * The container's mounts mapped to local directories: emptyDir and projected volumes under
 * the pod's directory, claims under the claims directory (so a local copy outlives the pod,
 * as on a PersistentVolume).
 *
 * @throws ContainerConfigError for a mount of an unknown or unsupported volume.
 */
export function mapVolumeMounts(
  pod: V1Pod,
  container: V1Container,
  roots: VolumeRoots,
): MappedMount[] {
  const volumes = new Map((pod.spec?.volumes ?? []).map((volume) => [volume.name, volume]));
  return (container.volumeMounts ?? []).map((mount) => {
    const volume = volumes.get(mount.name);
    if (volume === undefined) {
      throw new ContainerConfigError(`volumeMount "${mount.name}" names no volume of the pod`);
    }
    const base = volumeDirOf(pod, volume, roots);
    return {
      volume: volume.name,
      kind: kindOf(volume),
      mountPath: mount.mountPath,
      localPath: mount.subPath ? join(base, mount.subPath) : base,
    };
  });
}

/** The local path of a container path under one of the mounts (the deepest), or undefined. */
export function localPathOf(path: string, mounts: readonly MappedMount[]): string | undefined {
  const matching = mounts
    .filter((mount) => path === mount.mountPath || path.startsWith(`${mount.mountPath}/`))
    .sort((a, b) => b.mountPath.length - a.mountPath.length);
  const mount = matching[0];
  return mount === undefined ? undefined : mount.localPath + path.slice(mount.mountPath.length);
}

/** An argument with a container path (`/p`, `--opt=/p`) translated; others unchanged. */
function translateArgument(arg: string, mounts: readonly MappedMount[]): string {
  const equals = arg.startsWith('--') ? arg.indexOf('=') : -1;
  const head = equals < 0 ? '' : arg.slice(0, equals + 1);
  const path = arg.slice(head.length);
  return path.startsWith('/') ? head + (localPathOf(path, mounts) ?? path) : arg;
}

/**
 * Options of the operator whose defaults are mount paths inside its container: outside one,
 * the option is passed with the mount's local directory instead.
 */
const DEFAULT_PATH_OPTIONS: readonly { command: string; option: string; mountPath: string }[] = [
  { command: 'run', option: '--local-dir', mountPath: LOCAL_COPY_MOUNT_PATH },
];

/** Variables that point the operator at a mount's local directory. */
const PATH_VARIABLES: readonly { variable: string; mountPath: string }[] = [
  // Node (os.tmpdir()) and PostgreSQL's tools both honour TMPDIR.
  { variable: 'TMPDIR', mountPath: '/tmp' },
  { variable: SERVICE_ACCOUNT_DIR_ENV, mountPath: SERVICE_ACCOUNT_DIR },
];

/** The operator's command line (after its entrypoint) for a container's args. */
export function localArguments(
  container: V1Container,
  env: Readonly<Record<string, string>>,
  mounts: readonly MappedMount[],
): string[] {
  const command = container.command ?? [];
  if (command.length > 0 && command[0] !== 'pgbackup') {
    throw new ContainerConfigError(
      `container "${container.name}" runs ${JSON.stringify(command)}; the local executor runs only the operator's entrypoint (pgbackup)`,
    );
  }
  const args = [...command.slice(1), ...(container.args ?? [])].map((arg) =>
    translateArgument(expandReferences(arg, env), mounts),
  );
  for (const { command: name, option, mountPath } of DEFAULT_PATH_OPTIONS) {
    const local = localPathOf(mountPath, mounts);
    const given = args.some((arg) => arg === option || arg.startsWith(`${option}=`));
    if (args[0] === name && local !== undefined && !given) args.push(option, local);
  }
  return args;
}

/** Where the process finds the API server, as the kubelet's service variables say. */
export interface ApiServerAddress {
  readonly host: string;
  readonly port: string;
}

/** The API server's host and port from its URL. */
export function apiServerAddressOf(server: string): ApiServerAddress {
  const url = new URL(server);
  return { host: url.hostname.replace(/^\[|\]$/g, ''), port: url.port || '443' };
}

/**
 * The process environment of a container: the container's own variables, the service
 * variables of the `kubernetes` Service (pointing at the real API server), HOSTNAME, and
 * variables that redirect mount paths to their local directories. Nothing of the executor's
 * own environment leaks in but PATH.
 */
export function localEnvironment(input: {
  readonly pod: V1Pod;
  readonly containerEnv: Readonly<Record<string, string>>;
  readonly mounts: readonly MappedMount[];
  readonly apiServer: ApiServerAddress;
  readonly home: string;
  readonly path: string;
}): Record<string, string> {
  const env: Record<string, string> = {
    PATH: input.path,
    HOME: input.home,
    HOSTNAME: input.pod.metadata?.name ?? '',
    KUBERNETES_SERVICE_HOST: input.apiServer.host,
    KUBERNETES_SERVICE_PORT: input.apiServer.port,
  };
  for (const { variable, mountPath } of PATH_VARIABLES) {
    const local = localPathOf(mountPath, input.mounts);
    if (local !== undefined) env[variable] = local;
  }
  return { ...env, ...input.containerEnv };
}
