/**
 * A Restore whose Job ends before its runner could record anything (here: the Job's deadline
 * passes while nothing runs its pod) is recorded Failed by the controller, pointing at the
 * Job, and the claim it made stays.
 */
import { describe, expect, it, vi } from 'vitest';
import { API_VERSION, RESTORE_PLURAL } from '../../../src/api/index.js';
import type { KubeObject } from '../../../src/kube/index.js';
import {
  applyRunnerPolicy,
  FAST_RESYNC_ARGS,
  pgbackupPath,
  useRunningController,
  waitForJob,
} from '../controller/controller-setup.js';

describe('a Restore whose Job dies unrecorded', () => {
  // A Job's deadline of 5 s: the Job controller fails it, since no kubelet runs its pod.
  const running = useRunningController([...FAST_RESYNC_ARGS, '--run-deadline-seconds', '5']);

  it('is recorded Failed by the controller, naming the Job and its reason', async () => {
    const { env } = running;
    await applyRunnerPolicy(env, {});
    await env.client.request({
      verb: 'create',
      path: pgbackupPath(env.namespace, RESTORE_PLURAL),
      body: {
        apiVersion: API_VERSION,
        kind: 'Restore',
        metadata: { name: 'never-run' },
        spec: { policy: 'orders', pvc: { name: 'never-run-claim', size: '1Gi' } },
      },
      what: 'create Restore',
    });
    const job = await waitForJob(env, 'never-run-restore');
    expect(job.spec).toMatchObject({ activeDeadlineSeconds: 5, backoffLimit: 0 });
    const restore = await vi.waitFor(
      async () => {
        const found = await env.client.request<
          KubeObject & {
            status?: { phase?: string; message?: string; conditions?: { reason: string }[] };
          }
        >({
          verb: 'get',
          path: pgbackupPath(env.namespace, RESTORE_PLURAL, 'never-run'),
          what: 'get Restore',
        });
        expect(found.status?.phase).toBe('Failed');
        return found;
      },
      { timeout: 90_000, interval: 500 },
    );
    expect(restore.status?.message).toMatch(
      /^The Job "never-run-restore" failed before the restore recorded its outcome \(DeadlineExceeded: .+\); see "kubectl describe job never-run-restore" and its pod's logs\. Look at the claim before using it, then create a new Restore\.$/,
    );
    expect(restore.status?.conditions?.map((condition) => condition.reason)).toEqual(['JobFailed']);
    // The claim was made for the Restore and stays, owned by nobody.
    const claim = await env.client.request<KubeObject>({
      verb: 'get',
      path: `/api/v1/namespaces/${env.namespace}/persistentvolumeclaims/never-run-claim`,
      what: 'get claim',
    });
    expect(claim.metadata.ownerReferences ?? []).toEqual([]);
  }, 150_000);
});
