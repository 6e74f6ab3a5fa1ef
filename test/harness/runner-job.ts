/**
 * A Job standing for the one a CronJob (or a person) made for a run, and the pod the Job
 * controller creates for it. Nothing runs the pod: the test runs the runner as that pod by
 * giving it the pod's name as its hostname, as the kubelet would.
 */
import { vi } from 'vitest';
import { kubectl, kubectlApply } from './cluster-objects.js';
import { fixtureYaml } from './fixtures.js';

/** The Job a run belongs to, and its pod. */
export interface RunnerJob {
  readonly name: string;
  readonly podName: string;
  /** The Job's `metadata.creationTimestamp`, as the API server stamped it. */
  readonly createdAtMs: number;
}

interface JobObject {
  metadata: { name: string; annotations?: Record<string, string>; creationTimestamp?: string };
}

/**
 * Creates the Job of test/fixtures/binary/runner-job.yaml named `name` (with the CronJob
 * controller's scheduled time when `scheduledAt` is given) and waits for its pod.
 */
export async function createRunnerJob(
  namespace: string,
  name: string,
  scheduledAt?: string,
): Promise<RunnerJob> {
  const job = fixtureYaml<JobObject>('binary/runner-job.yaml');
  job.metadata.name = name;
  if (scheduledAt !== undefined) {
    job.metadata.annotations = { 'batch.kubernetes.io/cronjob-scheduled-timestamp': scheduledAt };
  }
  await kubectlApply(namespace, [job]);
  const created = JSON.parse(
    await kubectl(['get', 'job', name, '-n', namespace, '-o', 'json']),
  ) as JobObject;
  const podName = await vi.waitFor(
    async () => {
      const pods = JSON.parse(
        await kubectl([
          'get',
          'pods',
          '-n',
          namespace,
          '-l',
          `batch.kubernetes.io/job-name=${name}`,
          '-o',
          'json',
        ]),
      ) as { items: { metadata: { name: string } }[] };
      const found = pods.items[0]?.metadata.name;
      if (found === undefined) throw new Error(`no pod of Job ${namespace}/${name} yet`);
      return found;
    },
    { timeout: 60_000, interval: 250 },
  );
  return {
    name,
    podName,
    createdAtMs: Date.parse(created.metadata.creationTimestamp ?? ''),
  };
}
