import { CoreV1Api, RbacAuthorizationV1Api } from '@kubernetes/client-node';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import {
  adminKubeConfig,
  apiFailure,
  createTestNamespace,
  serviceAccountKubeConfig,
} from '../harness/kube.js';

describe('RBAC is enforced on service-account identities', () => {
  const admin = adminKubeConfig();
  let namespace = '';

  beforeAll(async () => {
    namespace = await createTestNamespace(admin);
    await admin.makeApiClient(CoreV1Api).createNamespacedServiceAccount({
      namespace,
      body: { metadata: { name: 'runner' } },
    });
  });

  it('refuses a service account without a RoleBinding and allows it with one', async () => {
    const asRunner = await serviceAccountKubeConfig(admin, { namespace, name: 'runner' });
    const core = asRunner.makeApiClient(CoreV1Api);

    const refused = await apiFailure(core.listNamespacedPod({ namespace }));
    expect(refused.code).toBe(403);
    expect(refused.message).toContain(`system:serviceaccount:${namespace}:runner`);

    const rbac = admin.makeApiClient(RbacAuthorizationV1Api);
    await rbac.createNamespacedRole({
      namespace,
      body: {
        metadata: { name: 'list-pods' },
        rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['list'] }],
      },
    });
    await rbac.createNamespacedRoleBinding({
      namespace,
      body: {
        metadata: { name: 'runner-list-pods' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'list-pods' },
        subjects: [{ kind: 'ServiceAccount', name: 'runner', namespace }],
      },
    });

    // The authorizer reads RBAC through an informer, so the grant lands within moments.
    const pods = await vi.waitFor(() => core.listNamespacedPod({ namespace }), {
      timeout: 30_000,
      interval: 200,
    });
    expect(pods.items).toEqual([]);
    // Still nothing beyond the grant.
    const deleteRefused = await apiFailure(core.deleteCollectionNamespacedPod({ namespace }));
    expect(deleteRefused.code).toBe(403);
  });
});
