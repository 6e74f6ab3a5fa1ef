import type { V1Container, V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import {
  apiServerAddressOf,
  localArguments,
  localEnvironment,
  localPathOf,
  mapVolumeMounts,
} from '../../harness/executor/pod-paths.js';

const SA_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';
const roots = { podDir: '/work/pods/p1', claimsDir: '/work/claims' };

/** A runner pod as the controller renders it and admission completes it. */
function runnerPod(args: string[], withLocalCopy: boolean): { pod: V1Pod; container: V1Container } {
  const container: V1Container = {
    name: 'runner',
    args,
    volumeMounts: [
      { name: 'tmp', mountPath: '/tmp' },
      ...(withLocalCopy ? [{ name: 'local-copy', mountPath: '/var/lib/pgbackup/local' }] : []),
      { name: 'kube-api-access-x1', mountPath: SA_DIR, readOnly: true },
    ],
  };
  const pod: V1Pod = {
    metadata: { name: 'p1', namespace: 'shop' },
    spec: {
      containers: [container],
      volumes: [
        { name: 'tmp', emptyDir: {} },
        { name: 'local-copy', persistentVolumeClaim: { claimName: 'orders-local' } },
        { name: 'kube-api-access-x1', projected: { sources: [] } },
      ],
    },
  };
  return { pod, container };
}

describe("a pod's volumes as local directories", () => {
  it('maps emptyDir and projected volumes into the pod directory and claims to a shared one', () => {
    const { pod, container } = runnerPod(['run'], true);
    expect(mapVolumeMounts(pod, container, roots)).toEqual([
      {
        volume: 'tmp',
        kind: 'emptyDir',
        mountPath: '/tmp',
        localPath: '/work/pods/p1/volumes/tmp',
      },
      {
        volume: 'local-copy',
        kind: 'persistentVolumeClaim',
        mountPath: '/var/lib/pgbackup/local',
        localPath: '/work/claims/shop/orders-local',
      },
      {
        volume: 'kube-api-access-x1',
        kind: 'projected',
        mountPath: SA_DIR,
        localPath: '/work/pods/p1/volumes/kube-api-access-x1',
      },
    ]);
  });

  it('translates container paths by the deepest mount, and leaves others alone', () => {
    const { pod, container } = runnerPod(['run'], true);
    const mounts = mapVolumeMounts(pod, container, roots);
    expect(localPathOf('/var/lib/pgbackup/local/x/y', mounts)).toBe(
      '/work/claims/shop/orders-local/x/y',
    );
    expect(localPathOf('/tmp', mounts)).toBe('/work/pods/p1/volumes/tmp');
    expect(localPathOf('/tmpfoo', mounts)).toBeUndefined();
    expect(localPathOf('/etc/passwd', mounts)).toBeUndefined();
  });

  it('refuses a volume kind it cannot stand for, naming it', () => {
    const { pod, container } = runnerPod(['run'], false);
    pod.spec?.volumes?.push({ name: 'host', hostPath: { path: '/' } });
    container.volumeMounts?.push({ name: 'host', mountPath: '/host' });
    expect(() => mapVolumeMounts(pod, container, roots)).toThrow(
      'volume "host" is a hostPath volume; the local executor supports emptyDir, persistentVolumeClaim and projected',
    );
  });
});

describe("the local process of a pod's container", () => {
  it("passes the local copy's directory for the runner's default --local-dir", () => {
    const { pod, container } = runnerPod(['run', '--type', 'binary', '--line', 'daily'], true);
    const mounts = mapVolumeMounts(pod, container, roots);
    expect(localArguments(container, {}, mounts)).toEqual([
      'run',
      '--type',
      'binary',
      '--line',
      'daily',
      '--local-dir',
      '/work/claims/shop/orders-local',
    ]);
  });

  it('translates paths given in arguments and expands $(VAR)', () => {
    const { pod, container } = runnerPod(
      ['run', '--local-dir=/var/lib/pgbackup/local/sub', '--policy', '$(NS)/orders', '/tmp/x'],
      true,
    );
    const mounts = mapVolumeMounts(pod, container, roots);
    expect(localArguments(container, { NS: 'shop' }, mounts)).toEqual([
      'run',
      '--local-dir=/work/claims/shop/orders-local/sub',
      '--policy',
      'shop/orders',
      '/work/pods/p1/volumes/tmp/x',
    ]);
  });

  it('adds no --local-dir when the pod has no local copy', () => {
    const { pod, container } = runnerPod(['run', '--type', 'binary'], false);
    expect(localArguments(container, {}, mapVolumeMounts(pod, container, roots))).toEqual([
      'run',
      '--type',
      'binary',
    ]);
  });

  it("runs only the operator's entrypoint", () => {
    const container = { name: 'runner', command: ['pgbackup', 'version'] };
    expect(localArguments(container, {}, [])).toEqual(['version']);
    expect(() => localArguments({ ...container, command: ['sh', '-c', 'id'] }, {}, [])).toThrow(
      "runs only the operator's entrypoint (pgbackup)",
    );
  });

  it("gives the process the pod's variables, the API server as the kubernetes Service and the mounts' directories, and nothing else of the executor's", () => {
    const { pod, container } = runnerPod(['run'], false);
    const mounts = mapVolumeMounts(pod, container, roots);
    const env = localEnvironment({
      pod,
      containerEnv: { PGUSER: 'postgres' },
      mounts,
      apiServer: apiServerAddressOf('https://127.0.0.6:6443'),
      home: '/work/pods/p1/home',
      path: '/usr/bin',
    });
    expect(env).toEqual({
      PATH: '/usr/bin',
      HOME: '/work/pods/p1/home',
      HOSTNAME: 'p1',
      KUBERNETES_SERVICE_HOST: '127.0.0.6',
      KUBERNETES_SERVICE_PORT: '6443',
      TMPDIR: '/work/pods/p1/volumes/tmp',
      PGBACKUP_SERVICE_ACCOUNT_DIR: '/work/pods/p1/volumes/kube-api-access-x1',
      PGUSER: 'postgres',
    });
    expect(apiServerAddressOf('https://[::1]/')).toEqual({ host: '::1', port: '443' });
  });
});
