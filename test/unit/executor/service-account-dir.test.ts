import { mkdtempSync, writeFileSync } from 'node:fs';
import type { RequestOptions } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadKubeConnection } from '../../../src/kube/kube-config.js';

describe("the runner's in-cluster connection outside a container (as the local executor runs it)", () => {
  it('reads the token and CA from PGBACKUP_SERVICE_ACCOUNT_DIR and the server from the service variables', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pgbackup-sa-'));
    writeFileSync(join(dir, 'token'), 'pod-bound-token\n');
    writeFileSync(join(dir, 'ca.crt'), 'the cluster CA');
    const connection = await loadKubeConnection({
      KUBERNETES_SERVICE_HOST: '127.0.0.6',
      KUBERNETES_SERVICE_PORT: '6443',
      PGBACKUP_SERVICE_ACCOUNT_DIR: dir,
    });
    const options: RequestOptions = {};
    await connection.apply(options);
    expect(connection.server).toBe('https://127.0.0.6:6443');
    expect(options.headers).toEqual({ Authorization: 'Bearer pod-bound-token' });
    expect(String(options.ca)).toBe('the cluster CA');

    // The kubelet rotates the token in place: every request reads the file again.
    writeFileSync(join(dir, 'token'), 'rotated-token\n');
    const next: RequestOptions = {};
    await connection.apply(next);
    expect(next.headers).toEqual({ Authorization: 'Bearer rotated-token' });
  });
});
