/**
 * A request with a body is framed for the API server whatever its verb: Node sends no
 * Content-Length and no chunked encoding for a DELETE by default, so a DELETE with
 * preconditions left its body in the keep-alive socket, where the API server read it as the
 * start of the next request (issue 14: the runner's queue stopped sending delete bodies).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectionOfKubeConfig, KubeClient } from '../../../src/kube/index.js';
import { adminKubeConfig, createTestNamespace } from '../../harness/kube.js';

interface ConfigMap {
  metadata: { name: string; uid: string };
}

describe('KubeClient request bodies', () => {
  let client: KubeClient;
  let namespace: string;

  beforeAll(async () => {
    const admin = adminKubeConfig();
    namespace = await createTestNamespace(admin);
    client = await KubeClient.create(connectionOfKubeConfig(admin));
  });
  afterAll(() => client.close());

  const path = (name = '') =>
    `/api/v1/namespaces/${namespace}/configmaps${name === '' ? '' : `/${name}`}`;

  it('deletes with a uid precondition, and the next request on the connection is answered', async () => {
    const created = await client.request<ConfigMap>({
      verb: 'create',
      path: path(),
      body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'preconditioned' } },
      what: 'create ConfigMap preconditioned',
    });
    await client.request({
      verb: 'delete',
      path: path('preconditioned'),
      body: {
        apiVersion: 'v1',
        kind: 'DeleteOptions',
        preconditions: { uid: created.metadata.uid },
      },
      what: 'delete ConfigMap preconditioned',
    });
    // Same client, same keep-alive agent: the socket the DELETE used serves this GET.
    const list = await client.request<{ items: ConfigMap[] }>({
      verb: 'list',
      path: path(),
      what: 'list ConfigMaps',
    });
    expect(list.items.map((item) => item.metadata.name)).not.toContain('preconditioned');
  });

  it('refuses a delete whose uid precondition does not match, leaving the object', async () => {
    await client.request({
      verb: 'create',
      path: path(),
      body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'kept' } },
      what: 'create ConfigMap kept',
    });
    await expect(
      client.request({
        verb: 'delete',
        path: path('kept'),
        body: { apiVersion: 'v1', kind: 'DeleteOptions', preconditions: { uid: 'not-its-uid' } },
        what: 'delete ConfigMap kept',
      }),
    ).rejects.toThrow(/409|Conflict|precondition/i);
    const kept = await client.request<ConfigMap>({
      verb: 'get',
      path: path('kept'),
      what: 'get ConfigMap kept',
    });
    expect(kept.metadata.name).toBe('kept');
  });
});
