import type { V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { jobFromCronJob, manualJobName } from '../../harness/executor/job-from-cron-job.js';
import { exitCodeOf, logTail, terminatedStatus } from '../../harness/executor/pod-status.js';

const pod: V1Pod = { spec: { containers: [{ name: 'runner', image: 'pgbackup-operator:test' }] } };
const times = { startedAt: '2026-11-25T10:00:00Z', finishedAt: '2026-11-25T10:00:09Z' };

describe('the pod status the executor reports', () => {
  it('reports Succeeded with reason Completed for exit code 0', () => {
    const { status } = terminatedStatus(pod, { exitCode: 0, signal: null, ...times });
    expect(status.phase).toBe('Succeeded');
    expect(status.containerStatuses[0]?.state.terminated).toEqual({
      exitCode: 0,
      reason: 'Completed',
      ...times,
    });
  });

  it('reports Failed with reason Error, the exit code and the termination message', () => {
    const { status } = terminatedStatus(pod, {
      exitCode: 1,
      signal: null,
      ...times,
      message: 'no primary',
    });
    expect(status.phase).toBe('Failed');
    expect(status.containerStatuses[0]?.state.terminated).toMatchObject({
      exitCode: 1,
      reason: 'Error',
      message: 'no primary',
    });
  });

  it('gives a process ended by a signal the exit code 128 + its number, as a runtime does', () => {
    expect(exitCodeOf({ exitCode: null, signal: 'SIGKILL' })).toBe(137);
    expect(exitCodeOf({ exitCode: null, signal: 'SIGTERM' })).toBe(143);
    // Every signal the platform knows, not only a hand-written few.
    expect(exitCodeOf({ exitCode: null, signal: 'SIGABRT' })).toBe(134);
    const { status } = terminatedStatus(pod, { exitCode: null, signal: 'SIGQUIT', ...times });
    expect(status.containerStatuses[0]?.state.terminated).toMatchObject({
      exitCode: 131,
      signal: 3,
      reason: 'Error',
    });
  });

  it("keeps the end of a log as the termination message, as the kubelet's fallback does", () => {
    const log = Array.from({ length: 100 }, (_, i) => `line ${i}`).join('\n');
    expect(logTail(log).split('\n')).toHaveLength(80);
    expect(logTail(log, 2)).toBe('line 98\nline 99');
    expect(logTail('x'.repeat(5000))).toHaveLength(2048);
  });
});

describe('a Job from a CronJob, as kubectl create job --from=cronjob/NAME makes it', () => {
  const cronJob = {
    metadata: { name: 'orders-binary-daily', uid: 'c-1' },
    spec: {
      jobTemplate: {
        metadata: { labels: { 'pgbackup.dev/policy': 'orders' }, annotations: { a: 'b' } },
        spec: { backoffLimit: 0, template: { spec: { containers: [] } } },
      },
    },
  };

  it('copies the template and marks the Job manual, owned by the CronJob', () => {
    expect(jobFromCronJob(cronJob, 'orders-binary-daily-29926731')).toEqual({
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: {
        name: 'orders-binary-daily-29926731',
        labels: { 'pgbackup.dev/policy': 'orders' },
        annotations: { 'cronjob.kubernetes.io/instantiate': 'manual', a: 'b' },
        ownerReferences: [
          {
            apiVersion: 'batch/v1',
            kind: 'CronJob',
            name: 'orders-binary-daily',
            uid: 'c-1',
            controller: true,
            blockOwnerDeletion: true,
          },
        ],
      },
      spec: cronJob.spec.jobTemplate.spec,
    });
  });

  it('names the Job like the CronJob controller: minutes since the epoch', () => {
    expect(manualJobName('orders-binary-daily', Date.parse('2026-11-25T10:51:30Z'))).toBe(
      'orders-binary-daily-29926731',
    );
  });
});
