/**
 * What a person reads when the runner or the controller cannot find the API server: the
 * kubeconfig it tried and how to name another.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { KubeConnectionError, loadKubeConnection } from '../../../src/kube/index.js';
import { repoRoot } from '../../harness/env/layout.js';

describe('loadKubeConnection outside a pod', () => {
  it('names the missing kubeconfig and the ways to give one', async () => {
    const missing = join(repoRoot, 'test', 'fixtures', 'kube', 'no-such-kubeconfig.yaml');
    const loading = loadKubeConnection({ KUBECONFIG: missing });
    await expect(loading).rejects.toThrow(KubeConnectionError);
    await expect(loading).rejects.toThrow(
      `cannot read the kubeconfig ${missing}: pass --kubeconfig or set KUBECONFIG, or run in a cluster`,
    );
  });

  it('names the kubeconfig whose current context has no cluster', async () => {
    const file = join(repoRoot, 'test', 'fixtures', 'kube', 'kubeconfig-without-cluster.yaml');
    await expect(loadKubeConnection({}, file)).rejects.toThrow(
      `${file} has no cluster for its current context`,
    );
  });
});
