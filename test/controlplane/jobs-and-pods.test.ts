import { BatchV1Api, CoreV1Api, type V1CronJob, type V1Pod } from '@kubernetes/client-node';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { fixtureYaml } from '../harness/fixtures.js';
import {
  adminKubeConfig,
  apiFailure,
  createTestNamespace,
  restrictedPodSecurity,
} from '../harness/kube.js';

describe('the control plane runs the CronJob → Job → Pod chain', () => {
  const kc = adminKubeConfig();
  const batch = kc.makeApiClient(BatchV1Api);
  const core = kc.makeApiClient(CoreV1Api);
  let namespace = '';

  beforeAll(async () => {
    namespace = await createTestNamespace(kc, restrictedPodSecurity);
  });

  it('makes the real Job controller create a Pod for a Job created from a CronJob', async () => {
    const cronJob = await batch.createNamespacedCronJob({
      namespace,
      body: fixtureYaml<V1CronJob>('kube/smoke-cronjob.yaml'),
    });
    const template = cronJob.spec?.jobTemplate;
    const uid = cronJob.metadata?.uid;
    if (template === undefined || uid === undefined)
      throw new Error('CronJob came back without spec or uid');
    // What `kubectl create job --from=cronjob/smoke` sends.
    await batch.createNamespacedJob({
      namespace,
      body: {
        metadata: {
          name: 'smoke-manual',
          annotations: { 'cronjob.kubernetes.io/instantiate': 'manual' },
          ownerReferences: [
            { apiVersion: 'batch/v1', kind: 'CronJob', name: 'smoke', uid, controller: true },
          ],
        },
        spec: template.spec,
      },
    });

    const pod = await vi.waitFor(
      async () => {
        const pods = await core.listNamespacedPod({
          namespace,
          labelSelector: 'job-name=smoke-manual',
        });
        const [first] = pods.items;
        expect(first).toBeDefined();
        return first as V1Pod;
      },
      { timeout: 60_000, interval: 250 },
    );
    expect(pod.metadata?.ownerReferences?.[0]).toMatchObject({ kind: 'Job', name: 'smoke-manual' });
    expect(pod.spec?.containers[0]?.command).toEqual(['pgbackup', 'version']);
  });

  it('rejects a Pod without a restricted security context (Pod Security admission)', async () => {
    const failure = await apiFailure(
      core.createNamespacedPod({
        namespace,
        body: fixtureYaml<V1Pod>('kube/unrestricted-pod.yaml'),
      }),
    );
    expect(failure.code).toBe(403);
    expect(failure.message).toContain('violates PodSecurity "restricted:latest"');
  });
});
