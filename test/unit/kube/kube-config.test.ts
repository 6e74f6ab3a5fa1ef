/**
 * How the runner and the controller find the API server: one lookup order for both, and what
 * a person reads when it fails (the kubeconfig tried, and only the ways the command accepts).
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { KubeConnectionError, loadKubeConnection } from '../../../src/kube/index.js';
import { repoRoot } from '../../harness/env/layout.js';

/** A kubeconfig whose one cluster is `server`: which file won shows in the connection's server. */
function writeKubeconfig(file: string, server: string): string {
  mkdirSync(join(file, '..'), { recursive: true });
  writeFileSync(
    file,
    stringify({
      apiVersion: 'v1',
      kind: 'Config',
      'current-context': 'test',
      contexts: [{ name: 'test', context: { cluster: 'test', user: 'test' } }],
      clusters: [{ name: 'test', cluster: { server } }],
      users: [{ name: 'test', user: { token: 'not-a-secret' } }],
    }),
  );
  return file;
}

describe('the kubeconfig lookup order', () => {
  let dir: string;
  let everything: NodeJS.ProcessEnv;
  let flagFile: string;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'pgbackup-kubeconfig-'));
    flagFile = writeKubeconfig(join(dir, 'flag.yaml'), 'https://flag.test:6443');
    writeKubeconfig(join(dir, 'env.yaml'), 'https://env.test:6443');
    writeKubeconfig(join(dir, 'home', '.kube', 'config'), 'https://home.test:6443');
    const serviceAccount = join(dir, 'serviceaccount');
    mkdirSync(serviceAccount);
    writeFileSync(join(serviceAccount, 'token'), 'pod-token\n');
    writeFileSync(join(serviceAccount, 'ca.crt'), 'the cluster CA');
    everything = {
      HOME: join(dir, 'home'),
      KUBECONFIG: `${join(dir, 'env.yaml')}:${join(dir, 'other.yaml')}`,
      KUBERNETES_SERVICE_HOST: 'in-cluster.test',
      KUBERNETES_SERVICE_PORT: '443',
      PGBACKUP_SERVICE_ACCOUNT_DIR: serviceAccount,
    };
  });

  it('takes the file the flag names before anything else', async () => {
    const connection = await loadKubeConnection(everything, flagFile, '--kubeconfig');
    expect(connection.server).toBe('https://flag.test:6443');
  });

  it('takes the first file of KUBECONFIG before the service account and ~/.kube/config', async () => {
    expect((await loadKubeConnection(everything)).server).toBe('https://env.test:6443');
    const leadingEmpty = { ...everything, KUBECONFIG: `:${everything.KUBECONFIG}` };
    expect((await loadKubeConnection(leadingEmpty)).server).toBe('https://env.test:6443');
  });

  it("takes the pod's service account before ~/.kube/config", async () => {
    const { KUBECONFIG: _unset, ...inPod } = everything;
    expect((await loadKubeConnection(inPod)).server).toBe('https://in-cluster.test:443');
  });

  it('falls back to ~/.kube/config outside a pod', async () => {
    const { KUBECONFIG: _unset, KUBERNETES_SERVICE_HOST: _host, ...outside } = everything;
    expect((await loadKubeConnection(outside)).server).toBe('https://home.test:6443');
    expect((await loadKubeConnection({ ...outside, KUBECONFIG: '' })).server).toBe(
      'https://home.test:6443',
    );
  });

  it('fails on an unreadable KUBECONFIG instead of trying the service account', async () => {
    const missing = join(dir, 'missing.yaml');
    await expect(loadKubeConnection({ ...everything, KUBECONFIG: missing })).rejects.toThrow(
      KubeConnectionError,
    );
  });
});

describe('loadKubeConnection errors name only what the command accepts', () => {
  const missing = join(repoRoot, 'test', 'fixtures', 'kube', 'no-such-kubeconfig.yaml');
  const emptyHome = mkdtempSync(join(tmpdir(), 'pgbackup-empty-home-'));

  it('tells `pgbackup run` (no flag) to fix KUBECONFIG', async () => {
    const loading = loadKubeConnection({ KUBECONFIG: missing });
    await expect(loading).rejects.toThrow(KubeConnectionError);
    await expect(loading).rejects.toThrow(
      `cannot read the kubeconfig ${missing} (no such file); it was named by KUBECONFIG: fix or unset KUBECONFIG`,
    );
    await expect(loading).rejects.not.toThrow('--kubeconfig');
  });

  it('tells `pgbackup run` how to name a kubeconfig when none was found', async () => {
    await expect(loadKubeConnection({ HOME: emptyHome })).rejects.toThrow(
      `cannot read the kubeconfig ${join(emptyHome, '.kube', 'config')} (no such file); no kubeconfig was named and this is not a pod with a service account (KUBERNETES_SERVICE_HOST and /var/run/secrets/kubernetes.io/serviceaccount/token): set KUBECONFIG, or run in a cluster`,
    );
  });

  it('offers the controller its --kubeconfig flag', async () => {
    await expect(
      loadKubeConnection({ HOME: emptyHome, KUBECONFIG: missing }, undefined, '--kubeconfig'),
    ).rejects.toThrow('fix or unset KUBECONFIG, or pass --kubeconfig');
    await expect(
      loadKubeConnection({ HOME: emptyHome }, undefined, '--kubeconfig'),
    ).rejects.toThrow('pass --kubeconfig, set KUBECONFIG, or run in a cluster');
    await expect(loadKubeConnection({}, missing, '--kubeconfig')).rejects.toThrow(
      `cannot read the kubeconfig ${missing} (no such file); give --kubeconfig a readable kubeconfig file`,
    );
  });

  it('names the kubeconfig whose current context has no cluster', async () => {
    const file = join(repoRoot, 'test', 'fixtures', 'kube', 'kubeconfig-without-cluster.yaml');
    await expect(loadKubeConnection({}, file)).rejects.toThrow(
      `${file} has no cluster for its current context`,
    );
  });
});
